"""Domain rules of the reference server as plain functions: no HTTP, no database.

Each module holds the rules of one concern (runners, access, ids, errors, ...); among them
``context_urls`` (ParseContextURL), ``scm_catalog`` and ``host_auth``
(CheckAuthenticationForHost), ``config_schema`` (GetRunnerConfigurationSchema, with its data in
``data/``) and ``validation`` (ValidateRunnerConfiguration and the Create/Update checks that
share it).
"""
