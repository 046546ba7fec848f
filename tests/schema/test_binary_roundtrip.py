"""A fully populated instance of every message survives the binary wire format unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.schema.descriptors import message_class, messages
from tests.schema.populate import populate, real_oneofs, variant_count

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor

CASES = [
    pytest.param(desc, variant, id=f"{desc.full_name}#{variant}")
    for desc in messages()
    for variant in range(variant_count(desc))
]


@pytest.mark.parametrize(("desc", "variant"), CASES)
def test_binary_round_trip_is_lossless(desc: Descriptor, variant: int) -> None:
    original = populate(desc, variant)
    # The instance really is fully populated: every field outside a oneof, plus one
    # member of each oneof, is present.
    oneof_members = {f.name for o in real_oneofs(desc) for f in o.fields}
    present = {f.name for f, _ in original.ListFields()}
    assert {f.name for f in desc.fields if f.name not in oneof_members} <= present
    for oneof in real_oneofs(desc):
        assert original.WhichOneof(oneof.name) == oneof.fields[variant % len(oneof.fields)].name

    wire = original.SerializeToString(deterministic=True)
    decoded = message_class(desc).FromString(wire)
    assert decoded == original
    assert decoded.SerializeToString(deterministic=True) == wire


def test_every_oneof_branch_is_exercised() -> None:
    seen: dict[tuple[str, str], set[str | None]] = {
        (d.full_name, o.name): set() for d in messages() for o in real_oneofs(d)
    }
    for desc in messages():
        for variant in range(variant_count(desc)):
            msg = populate(desc, variant)
            for oneof in real_oneofs(desc):
                seen[(desc.full_name, oneof.name)].add(msg.WhichOneof(oneof.name))
    expected = {
        (d.full_name, o.name): {f.name for f in o.fields}
        for d in messages()
        for o in real_oneofs(d)
    }
    assert seen == expected
    # Field.type, the Validate request's config and its secret, the Validate response's result.
    assert len(expected) == 4
