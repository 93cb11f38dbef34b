"""Solved field values made into a believable process launch, and that launch in each data source.

What a launch models (image, arguments, command line, parent, user, host, action) is
set on the :class:`~generators.model.Launch`, so every source renders it its own way
(4688 keeping quotes in ``process.args``, Sysmon 9 without an original file name): a
source whose shape defeats the rule shows it. What a launch does not model (a code
signature, a hash, an integrity level) is written onto a source's document only where
that source writes the field at all. Everything the rule leaves free comes from the
fleet: the host, the user, the parent, the image's version resource and hashes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import orjson

from generators.catalogue import PROCESSES, ProcessSpec
from generators.derive.solve import MISSING
from generators.fleet import Fleet
from generators.images import IMAGES, make_image
from generators.model import Image, Label, Launch, Parent, User
from generators.sources import Source
from generators.winargs import join_command_line, split_command_line
from harness.eql.fields import field_values

__all__ = [
    "CONTROLLED",
    "WORDS",
    "build_launch",
    "canonical_document",
    "faithful",
    "launch_document",
    "source_document",
    "writes",
]

# Fields the launch itself decides: a source renders them from it, and no value is forced onto them.
CONTROLLED = frozenset(
    {
        "process.name",
        "process.executable",
        "process.args",
        "process.args_count",
        "process.command_line",
        "process.pe.original_file_name",
        "process.parent.name",
        "process.parent.executable",
        "process.parent.args",
        "process.parent.args_count",
        "process.parent.command_line",
        "user.name",
        "process.Ext.token.integrity_level_name",  # the account's token (User.integrity)
        "winlog.event_data.IntegrityLevel",
        "event.type",
        "event.action",
        "event.category",
        "host.os.type",
        "host.os.family",
        "host.os.platform",
    }
)
# Controlled fields spelt from a fixed vocabulary, and the words a launch can give them: the
# one way a near miss can change them and still be written (`linux` for `windows`, an end).
WORDS: dict[str, tuple[str, ...]] = {
    "host.os.type": ("windows", "linux"),
    "host.os.family": ("windows", "linux"),
    "host.os.platform": ("windows", "linux"),
    "event.type": ("start", "end"),
    "event.action": ("start", "end"),
    "event.category": ("process",),
}
# What a source writes the same way on every document (its module, its channel): never forced.
_SOURCE_CONSTANTS = ("event.", "data_stream.", "agent.", "ecs.", "winlog.", "log.", "input.", "message")
_START_NS = 1_767_261_600_000_000_000  # 2026-01-01T10:00:00Z: a working hour, inside any recent look-back
_END_WORDS = frozenset({"end"})


def build_launch(values: Mapping[str, object], fleet: Fleet, label: Label, ordinal: int) -> Launch:
    """The launch the values describe, on a fleet host suited to its image."""
    spec = _spec_for(_text(values.get("process.name")) or _basename(_text(values.get("process.executable"))))
    host_index = _host_for(fleet, _text(values.get("host.os.type")) or "windows", spec)
    host = fleet.hosts[host_index]
    img = _image(values, "process")
    parent_img = _image(values, "process.parent", default=_default_parent(spec))
    args = _padded(_args(values, "process", img), values.get("process.args_count"), host.os_type)
    parent_args = _padded(
        _args(values, "process.parent", parent_img), values.get("process.parent.args_count"), host.os_type
    )
    pid = 4000 + 4 * ordinal
    action = "end" if _words(values.get("event.type")) & _END_WORDS else "start"
    return Launch(
        timestamp_ns=_START_NS + ordinal * 1_000_000_000,
        host=host,
        user=_user(values, fleet, host_index, spec),
        image=img,
        args=args,
        command_line=_command_line(values, "process", args),
        pid=pid,
        entity_id=f"derived-{ordinal}",
        parent=Parent(
            parent_img,
            parent_args,
            _command_line(values, "process.parent", parent_args),
            pid - 2,
            f"derived-parent-{ordinal}",
        ),
        label=label,
        action=action,
    )


def canonical_document(
    values: Mapping[str, object],
    launch: Launch,
    base: Source,
    category: str | None = None,
    *,
    rendered: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The witness as the query reads it: ``base``'s document with every solved value written on it.

    A query on another category (``registry where``) gets that category: the launch then
    stands for the process that acted, as ECS nests it in a registry or file event.
    ``rendered`` is :func:`launch_document` of the launch, when the caller has it (it is
    written on).
    """
    document = launch_document(launch, base) if rendered is None else rendered
    if category is not None and category != "process":
        document["event"]["category"] = [category]
    for name, value in values.items():
        if name not in CONTROLLED or not _rendered(document, name, value):
            _put(document, name, value)
    return document


def faithful(
    values: Mapping[str, object], launch: Launch, base: Source, *, rendered: dict[str, Any] | None = None
) -> bool:
    """Whether the launch carries every solved value it decides, as ``base`` writes the launch.

    Fields spelt from a fixed vocabulary (``WORDS``) are left to each source to judge.
    ``rendered`` is :func:`launch_document` of the launch, when the caller has it (it is read only).
    """
    document = launch_document(launch, base) if rendered is None else rendered
    return all(
        _rendered(document, name, value)
        for name, value in values.items()
        if name in CONTROLLED and name not in WORDS and name != "process.args"
    ) and _holds_elements(document, values.get("process.args"))


def _holds_elements(document: Mapping[str, Any], solved: object) -> bool:
    """The launch's arguments hold every solved element (after the program, which it adds)."""
    if not isinstance(solved, list):
        return solved is None or solved is MISSING or _rendered(document, "process.args", solved)
    return all(item in field_values(document, ("process", "args")) for item in solved)


def source_document(values: Mapping[str, object], launch: Launch, source: Source) -> dict[str, Any]:
    """The launch as ``source`` writes it, with the solved values it writes but the launch cannot set."""
    document = _plain(source.render(launch))
    for name, value in values.items():
        if name in CONTROLLED or name.startswith(_SOURCE_CONSTANTS) or not writes(source, name):
            continue
        _put(document, name, value)
    return document


def writes(source: Source, name: str) -> bool:
    """Whether ``source``'s process documents ever hold the field ``name``."""
    return name in source.fields or any(f.startswith(name + ".") for f in source.fields)


def launch_document(launch: Launch, base: Source) -> dict[str, Any]:
    """The launch as ``base`` renders it, read back as from JSON: what a witness is written on."""
    return _plain(base.render(launch))


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a rendered document as it would be read back from JSON (tuples become lists)."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(document))
    return copied


def _rendered(document: Mapping[str, Any], name: str, value: object) -> bool:
    """Whether the launch's own rendering already holds ``value`` (every element of a list)."""
    held = field_values(document, tuple(name.split(".")))
    if value is MISSING:
        return not held
    wanted = value if isinstance(value, list) else [value]
    return all(item in held for item in wanted) and (isinstance(value, list) or len(held) == 1)


def _put(document: dict[str, Any], name: str, value: object) -> None:
    *parents, leaf = name.split(".")
    node = document
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is MISSING:
                return
            child = node[part] = {}
        node = child
    if value is MISSING:
        node.pop(leaf, None)
    else:
        node[leaf] = copy.deepcopy(value)


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _words(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {v.lower() for v in items if isinstance(v, str)}


def _basename(path: str | None) -> str | None:
    return None if path is None else path.rsplit("\\", 1)[-1].rsplit("/", 1)[-1]


def _spec_for(name: str | None) -> ProcessSpec | None:
    if name is None:
        return None
    for spec in PROCESSES:
        if IMAGES[spec.image].name.lower() == name.lower():
            return spec
    return None


def _host_for(fleet: Fleet, os_type: str, spec: ProcessSpec | None) -> int:
    role = "linux-server" if os_type == "linux" else spec.roles[0] if spec else "iis-server"
    hosts = fleet.hosts_with_role(role) or fleet.hosts_with_role("iis-server")
    return hosts[0]


def _known_image(name: str | None) -> Image | None:
    if name is None:
        return None
    lowered = name.lower()
    for img in IMAGES.values():
        if img.name.lower() == lowered:
            return img
    for img in IMAGES.values():
        if (img.original_file_name or "").lower() == lowered:
            return img
    return None


def _image(values: Mapping[str, object], prefix: str, default: str = "cmd") -> Image:
    """The image the values name, borrowing the version resource of the fleet's image of that name."""
    executable = _text(values.get(f"{prefix}.executable"))
    name = _text(values.get(f"{prefix}.name")) or _basename(executable)
    original = values.get(f"{prefix}.pe.original_file_name")
    if name is None and isinstance(original, str):
        # Only the version resource is asked for: a renamed copy, as an attacker dodging a
        # rule on the name makes it (and a witness the name alone would not catch).
        stem, dot, extension = original.rpartition(".")
        executable = f"C:\\Users\\Public\\{stem or extension}-copy{dot}{extension if stem else ''}"
        name = _basename(executable)
    known = _known_image(name) or (IMAGES.get(default) if name is None else None)
    if known is None and isinstance(original, str):
        known = _known_image(original)
    if executable is None:
        if known is not None and name is not None:
            executable = known.executable.rsplit("\\", 1)[0] + "\\" + name
        elif known is not None:
            executable = known.executable
        else:
            executable = "C:\\Windows\\System32\\" + (name or "cmd.exe")
    if original is MISSING:
        original_name: str | None = None
    elif isinstance(original, str):
        original_name = original
    else:
        original_name = known.original_file_name if known else _basename(executable)
    if known is not None and known.executable == executable and known.original_file_name == original_name:
        return known
    return make_image(
        executable,
        original_name,
        known.description if known else None,
        known.product if known else None,
        known.company if known else None,
        known.file_version if known else None,
        # A file the fleet knows keeps its signer (a renamed copy's hash is still Microsoft's);
        # one it does not know is unsigned.
        known.signer if known else None,
    )


def _default_parent(spec: ProcessSpec | None) -> str:
    return spec.parents[0] if spec and spec.parents else "cmd"


def _args(values: Mapping[str, object], prefix: str, img: Image) -> tuple[str, ...]:
    solved = values.get(f"{prefix}.args")
    line = _text(values.get(f"{prefix}.command_line"))
    if isinstance(solved, list):
        elements = [str(v) for v in solved]
        if line is not None:
            split = split_command_line(line)
            return tuple(split + [e for e in elements if e not in split])
        return (img.executable, *elements)
    if line is not None:
        return tuple(split_command_line(line))
    return (img.executable,)


def _integrity(values: Mapping[str, object]) -> str | None:
    for name in ("process.Ext.token.integrity_level_name", "winlog.event_data.IntegrityLevel"):
        level = _text(values.get(name))
        if level is not None:
            return level.lower()
    return None


def _padded(args: tuple[str, ...], count: object, os_type: str) -> tuple[str, ...]:
    """Arguments up to the count asked for, as a shell's ``-c`` or ``/c`` and a command would add them."""
    if not isinstance(count, int) or isinstance(count, bool) or count <= len(args) or count > 64:
        return args
    filler = ("-c", "true", "--") if os_type == "linux" else ("/c", "echo", "ok")
    extra = [filler[min(i, len(filler) - 1)] for i in range(count - len(args))]
    return (*args, *extra)


def _command_line(values: Mapping[str, object], prefix: str, args: tuple[str, ...]) -> str:
    line = _text(values.get(f"{prefix}.command_line"))
    if line is None:
        return join_command_line(args)
    extra = args[len(split_command_line(line)) :]
    return line if not extra else f"{line} {join_command_line(extra)}"


def _user(values: Mapping[str, object], fleet: Fleet, host_index: int, spec: ProcessSpec | None) -> User:
    name = _text(values.get("user.name"))
    everyone = (*fleet.people, *fleet.admins, *fleet.services, fleet.system)
    if name is not None:
        for user in everyone:
            if user.name.lower() == name.lower():
                return user if user.name == name else User(name, user.domain, user.id, user.kind)
        return User(
            name, fleet.netbios, f"S-1-5-21-1004336348-1177238915-682003330-{1000 + len(name)}", "person"
        )
    integrity = _integrity(values)
    if integrity is not None:  # the token asked for: an account of that integrity
        chosen = [u for u in everyone if u.integrity == integrity]
        if chosen:
            return chosen[0] if integrity != "medium" else fleet.people[fleet.owners[host_index]]
    kind = spec.user if spec else "admin"
    if kind == "system":
        return fleet.system
    if kind == "person" and fleet.hosts[host_index].role == "workstation":
        return fleet.people[fleet.owners[host_index]]
    return fleet.admins[0]
