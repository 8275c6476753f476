"""The pprof messages built at run time match the profile.proto we ship, field by field."""

from __future__ import annotations

import re
from pathlib import Path

from samplers.formats import pprof_schema

PROTO = Path(pprof_schema.__file__).with_name("profile.proto")
_SCALARS = {"int64": 3, "uint64": 4, "bool": 8, "string": 9}


def _parse_proto(text: str) -> dict[str, list[tuple[str, int, str, bool]]]:
    messages: dict[str, list[tuple[str, int, str, bool]]] = {}
    for name, body in re.findall(r"message (\w+) \{(.*?)\n\}", text, re.S):
        fields = re.findall(r"^\s*(repeated )?(\w+) (\w+) = (\d+);", body, re.M)
        messages[name] = [(f, int(n), kind, bool(rep)) for rep, kind, f, n in fields]
    return messages


def test_runtime_schema_matches_profile_proto() -> None:
    # GIVEN the .proto we ship and the table the runtime descriptor is built from
    from_proto = _parse_proto(PROTO.read_text())
    # THEN they name the same messages with the same fields, numbers, kinds and labels
    assert set(from_proto) == set(pprof_schema.MESSAGES)
    for message, table in pprof_schema.MESSAGES.items():
        expected = [
            (name, number, type_name or _kind_name(kind), repeated)
            for name, number, kind, repeated, type_name in table
        ]
        assert from_proto[message] == expected, message


def _kind_name(kind: int) -> str:
    return {v: k for k, v in _SCALARS.items()}[kind]


def test_message_classes_serialise_a_profile() -> None:
    msg = pprof_schema.ProfileMessage()
    msg.string_table.extend(["", "cpu"])
    msg.sample.add(location_id=[1], value=[5])
    again = pprof_schema.ProfileMessage.FromString(msg.SerializeToString())
    assert list(again.string_table) == ["", "cpu"]
    assert list(again.sample[0].value) == [5]
