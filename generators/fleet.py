"""A Windows fleet built once from a seed: hosts, users, IIS configuration, process variants.

Faker fills the pools (people's names, the company domain, addresses); everything
after that draws from the pools with numpy, so a million events never call Faker.
The same seed gives the same fleet, and so the same events.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from faker import Faker

from generators.catalogue import PARENT_COMMAND_LINES, PROCESSES, SERVICE_HOSTS, ProcessSpec, Run
from generators.images import IMAGES, image
from generators.model import ACCOUNT_KINDS, Host, User
from generators.winargs import split_command_line

__all__ = ["Fleet", "IisSite", "Variant", "build_fleet", "small_fleet"]

_WINDOWS = {
    "workstation": ("Windows 11 Enterprise", "10.0.22631", "22631.4460"),
    "member-server": ("Windows Server 2022 Standard", "10.0.20348", "20348.2849"),
    "iis-server": ("Windows Server 2019 Datacenter", "10.0.17763", "17763.6532"),
    "domain-controller": ("Windows Server 2022 Datacenter", "10.0.20348", "20348.2849"),
}
_LINUX = ("Ubuntu 22.04.5 LTS", "5.15.0", "5.15.0-125-generic")
_POOL_NAMES = (
    "DefaultAppPool",
    "WsusPool",
    "SharePoint - 80",
    "OWA",
    "Intranet",
    "Api",
    "Payments",
    "Reports",
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class IisSite:
    """The IIS configuration of one web server: its pools (with their identities), sites, vdirs."""

    pools: tuple[str, ...]
    pool_users: tuple[User, ...]
    sites: tuple[str, ...]
    vdirs: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """One concrete command line of a catalogue process, with who starts it and as whom."""

    args: tuple[str, ...]
    command_line: str
    parents: tuple[str, ...]  # image keys
    user: str  # the kind of account (see ``ProcessSpec.user``)
    service: str  # the service whose svchost.exe starts it, when a parent is svchost
    leaf: bool  # it runs no program of its own: never a background process's parent


@dataclass(frozen=True)
class Fleet:
    seed: int
    domain: str
    netbios: str
    hosts: tuple[Host, ...]
    people: tuple[User, ...]
    admins: tuple[User, ...]
    services: tuple[User, ...]
    system: User
    local_service: User
    network_service: User
    owners: tuple[int, ...]  # per host: index into people of its main user (workstations)
    iis: dict[int, IisSite]  # host index -> its IIS configuration
    processes: tuple[ProcessSpec, ...]
    variants: tuple[tuple[Variant, ...], ...]  # per process: its rendered command lines

    def hosts_with_role(self, role: str) -> list[int]:
        return [i for i, h in enumerate(self.hosts) if h.role == role]


def build_fleet(
    seed: int,
    *,
    workstations: int = 160,
    member_servers: int = 24,
    iis_servers: int = 8,
    domain_controllers: int = 4,
    linux_servers: int = 4,
    people: int = 180,
    variants_per_process: int = 6,
) -> Fleet:
    """Build the fleet for ``seed``. Counts are checked at once: each must be >= 0, IIS servers >= 1."""
    counts = {
        "workstations": workstations,
        "member_servers": member_servers,
        "iis_servers": iis_servers,
        "domain_controllers": domain_controllers,
        "linux_servers": linux_servers,
        "people": people,
    }
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"build_fleet({name}={value}): counts must be >= 0")
    if iis_servers < 1 or people < 1:
        raise ValueError("build_fleet: a fleet needs at least one IIS server and one person")
    faker = Faker("en_US")
    faker.seed_instance(seed)
    rng = np.random.default_rng(seed)
    company = faker.unique.company().split()[0].split(",")[0].split("-")[0].lower()
    company = re.sub(r"[^a-z]", "", company) or "corp"
    domain, netbios = f"{company}.local", company.upper()[:15]
    domain_sid = "S-1-5-21-" + "-".join(str(faker.random_int(1_000_000_000, 3_999_999_999)) for _ in range(3))

    def person(i: int) -> User:
        first, last = faker.unique.first_name(), faker.unique.last_name()
        return User(f"{first[0]}{last}".lower(), netbios, f"{domain_sid}-{1104 + i}", "person")

    humans = tuple(person(i) for i in range(people))
    admins = tuple(
        User(f"adm-{h.name}", netbios, f"{domain_sid}-{5100 + i}", "admin") for i, h in enumerate(humans[:6])
    )
    services = tuple(
        User(name, netbios, f"{domain_sid}-{6100 + i}", "service")
        for i, name in enumerate(("svc-backup", "svc-monitor", "svc-deploy", "svc-sql"))
    )
    system = User("SYSTEM", "NT AUTHORITY", "S-1-5-18", "system")
    local_service = User("LOCAL SERVICE", "NT AUTHORITY", "S-1-5-19", "local-service")
    network_service = User("NETWORK SERVICE", "NT AUTHORITY", "S-1-5-20", "network-service")

    hosts: list[Host] = []
    roles = (
        ["workstation"] * workstations
        + ["member-server"] * member_servers
        + ["iis-server"] * iis_servers
        + ["domain-controller"] * domain_controllers
        + ["linux-server"] * linux_servers
    )
    prefix = {
        "workstation": "WS",
        "member-server": "SRV",
        "iis-server": "WEB",
        "domain-controller": "DC",
        "linux-server": "lnx",
    }
    numbers: dict[str, int] = {}
    for role in roles:
        numbers[role] = numbers.get(role, 0) + 1
        name = (
            f"{prefix[role]}-{numbers[role]:03d}"
            if role == "workstation"
            else f"{prefix[role]}{numbers[role]:02d}"
        )
        os_name, version, build = _LINUX if role == "linux-server" else _WINDOWS[role]
        hosts.append(
            Host(
                name=name,
                domain="" if role == "linux-server" else domain,
                role=role,
                os_type="linux" if role == "linux-server" else "windows",
                os_name=os_name,
                os_version=version,
                os_build=build,
                ip=faker.unique.ipv4_private(),
                mac=faker.mac_address(),
                id=faker.uuid4(),
            )
        )
    owners = tuple(int(i) for i in rng.integers(0, len(humans), size=len(hosts)))

    iis: dict[int, IisSite] = {}
    for index, host in enumerate(hosts):
        if host.role != "iis-server":
            continue
        count = int(rng.integers(2, 5))
        pools = tuple(
            _POOL_NAMES[int(i)] for i in sorted(rng.choice(len(_POOL_NAMES), size=count, replace=False))
        )
        pool_users = tuple(User(pool, "IIS APPPOOL", _apppool_sid(pool), "apppool") for pool in pools)
        sites = ("Default Web Site", *(f"{p} site" for p in pools[1:]))
        vdirs = (*(f"{site}/" for site in sites), "Default Web Site/files")
        iis[index] = IisSite(pools, pool_users, sites, vdirs)

    values = {
        "host": [h.name for h in hosts],
        "user": [h.name for h in humans],
        "domain": [domain],
        "file": [faker.word() + str(i) for i in range(40)],
        "url": [faker.url() for _ in range(40)],
        "pool": list(_POOL_NAMES),
        "site": ["Default Web Site"],
    }

    def render(spec: ProcessSpec, template: str | Run) -> Variant:
        run = template if isinstance(template, Run) else Run(template)

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "n":
                return str(int(rng.integers(1, 9999)))
            if key == "guid":
                return "{" + faker.uuid4().upper() + "}"
            pool = values.get(key)
            if pool is None:  # a literal brace in a command line, not a placeholder
                return match.group(0)
            return pool[int(rng.integers(0, len(pool)))]

        command_line = _PLACEHOLDER.sub(fill, run.command)
        return Variant(
            tuple(split_command_line(command_line)),
            command_line,
            spec.parents if run.parents is None else run.parents,
            spec.user if run.user is None else run.user,
            spec.service if run.service is None else run.service,
            run.leaf,
        )

    variants = tuple(
        tuple(
            render(spec, spec.templates[k % len(spec.templates)])
            for k in range(max(variants_per_process, len(spec.templates)))
        )
        for spec in PROCESSES
    )
    _check_catalogue(variants)
    return Fleet(
        seed,
        domain,
        netbios,
        tuple(hosts),
        humans,
        admins,
        services,
        system,
        local_service,
        network_service,
        owners,
        iis,
        PROCESSES,
        variants,
    )


def _check_catalogue(variants: tuple[tuple[Variant, ...], ...]) -> None:
    """Fail now, not in the millionth event, on a catalogue typo."""
    for spec, spec_variants in zip(PROCESSES, variants, strict=True):
        image(spec.image)
        for variant in spec_variants:
            for parent in variant.parents:
                image(parent)
            if "svchost" in variant.parents and variant.service not in SERVICE_HOSTS:
                raise KeyError(f"{spec.image}: no svchost.exe hosts the service {variant.service!r}")
            if variant.user not in ACCOUNT_KINDS:
                raise KeyError(f"{spec.image}: no kind of account {variant.user!r}")
    unknown = set(PARENT_COMMAND_LINES) - set(IMAGES)
    if unknown:
        raise KeyError(f"parent command lines for unknown images: {sorted(unknown)}")


def _apppool_sid(pool: str) -> str:
    """IIS's virtual account SID: S-1-5-82 and the SHA-1 of the upper-cased pool name (UTF-16LE)."""
    digest = hashlib.sha1(pool.upper().encode("utf-16-le"), usedforsecurity=False).digest()
    return "S-1-5-82-" + "-".join(str(int.from_bytes(digest[k : k + 4], "little")) for k in range(0, 20, 4))


@lru_cache(maxsize=1)
def small_fleet() -> Fleet:
    """A small fleet (seed 0) for strategies and the Faker provider: built once per process."""
    return build_fleet(
        0, workstations=12, member_servers=4, iis_servers=3, domain_controllers=1, linux_servers=1, people=16
    )
