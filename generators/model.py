"""The abstract process launch that every data source renders in its own shape.

Hosts, users and images are pooled: built once, shared by many launches, and hashed
by identity (``eq=False``) so that renderers can cache their parts of a document
per pooled object cheaply.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["ACCOUNT_KINDS", "INTENTS", "Host", "Image", "Label", "Launch", "Parent", "User"]

INTENTS = ("malicious", "benign", "out-of-scope")


@dataclass(frozen=True, eq=False)
class Host:
    name: str  # NetBIOS-style short name, upper case as Windows reports it
    domain: str  # DNS domain; "" for a workgroup machine
    role: str  # workstation, member-server, iis-server, domain-controller, linux-server
    os_type: str  # windows or linux
    os_name: str
    os_version: str  # kernel version, "10.0.17763"
    os_build: str
    ip: str
    mac: str
    id: str  # agent/host id (a UUID)

    @property
    def fqdn(self) -> str:
        return f"{self.name.lower()}.{self.domain}" if self.domain else self.name.lower()


# The token Windows gives each kind of account's processes (Sysmon and Security 4688 on real
# hosts): the built-in service accounts run at System integrity, services and IIS worker
# processes at High, people at Medium (a standard user's token is not split by UAC: its
# elevation type is "default"); administrators work in elevated consoles.
_TOKENS = {
    "system": ("system", "default", 0),
    "local-service": ("system", "default", 0),
    "network-service": ("system", "default", 0),
    "service": ("high", "default", 0),
    "apppool": ("high", "default", 0),
    "admin": ("high", "full", 2),
    "person": ("medium", "default", 1),
}
ACCOUNT_KINDS = tuple(_TOKENS)
# The logon sessions Windows creates at boot for its own accounts (LUIDs 0x3e7, 0x3e5, 0x3e4).
_WELL_KNOWN_LOGONS = {"S-1-5-18": "0x3e7", "S-1-5-19": "0x3e5", "S-1-5-20": "0x3e4"}


@dataclass(frozen=True, eq=False)
class User:
    name: str
    domain: str  # NetBIOS domain, "NT AUTHORITY", "IIS APPPOOL" or the host name
    id: str  # SID
    kind: str  # person, admin, service, apppool, system, local-service, network-service

    @property
    def integrity(self) -> str:
        """The token's mandatory level: ``system``, ``high`` or ``medium``."""
        return _TOKENS[self.kind][0]

    @property
    def elevation(self) -> str:
        """The token's elevation type: ``default`` (not split by UAC), ``full`` (elevated) or ``limited``."""
        return _TOKENS[self.kind][1]

    @property
    def session(self) -> int:
        """The terminal session its processes run in: 0 for services, 1 at the console, 2 over RDP."""
        return _TOKENS[self.kind][2]

    @property
    def logon_id(self) -> str:
        """The logon session's id (a LUID, in hex): fixed for Windows's own accounts, stable for others."""
        known = _WELL_KNOWN_LOGONS.get(self.id)
        if known is not None:
            return known
        digest = int.from_bytes(hashlib.sha1(self.id.encode(), usedforsecurity=False).digest()[:4], "big")
        return hex(0x20000 + digest % 0x7E0000)


@dataclass(frozen=True, eq=False)
class Image:
    """An executable file, its version resource and its signature, as the sensor reads them."""

    executable: str
    original_file_name: str | None
    company: str | None
    description: str | None
    product: str | None
    file_version: str | None
    md5: str
    sha1: str
    sha256: str
    # The subject of the certificate that signs the file (embedded, or the catalogue that
    # holds its hash, as for most of Windows); None for an unsigned file.
    signer: str | None

    @property
    def name(self) -> str:
        return self.executable.rsplit("\\", 1)[-1]


@dataclass(frozen=True)
class Label:
    """The ground truth a generated document carries in ``labels.*``; the matcher never reads it."""

    scenario: str
    intent: str
    attack: tuple[str, ...] = ()
    role: str = "target"  # "context" for the other events of a chain (the shell a web shell opens)

    def __post_init__(self) -> None:
        if self.intent not in INTENTS:
            raise ValueError(f"intent must be one of {INTENTS}, not {self.intent!r}")


# Launches are made by the million: plain slotted classes are several times cheaper to
# build than frozen ones. Treat them as immutable all the same.
@dataclass(slots=True)
class Parent:
    image: Image
    args: tuple[str, ...]
    command_line: str
    pid: int
    entity_id: str


@dataclass(slots=True)
class Launch:
    """One process start (or end) on one host, independent of any data source."""

    timestamp_ns: int  # nanoseconds since the epoch, UTC
    host: Host
    user: User
    image: Image
    args: tuple[str, ...]
    command_line: str
    pid: int
    entity_id: str
    parent: Parent
    label: Label
    working_directory: str = "C:\\Windows\\system32\\"
    action: str = "start"  # or "end"
    record_id: int = 0  # the event log record number, for sources that have one
