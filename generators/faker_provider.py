"""A Faker provider for people who build test data with Faker directly.

    from faker import Faker
    from generators.faker_provider import WindowsProcessProvider

    fake = Faker()
    fake.add_provider(WindowsProcessProvider)
    fake.seed_instance(7)
    appcmd = get_catalogue("appcmd")  # from generators.catalogues
    fake.appcmd_command_line(appcmd, intent="malicious")
    fake.process_event(appcmd, scenario="appcmd-list-apppool-text-star", source="sysmon-windows")

Every choice goes through Faker's own random generator, so ``seed_instance`` makes the
results reproducible.
"""

from __future__ import annotations

from typing import Any

from faker.providers import BaseProvider

from generators.fleet import small_fleet
from generators.profiles import DEFAULT_START, scenario_sources
from generators.scenarios import Catalogue, IisContext, build_launches
from generators.sources import SOURCES

__all__ = ["WindowsProcessProvider"]


class WindowsProcessProvider(BaseProvider):
    """Windows host names, SIDs, AppCmd command lines and whole labelled process events."""

    def windows_host_name(self, role: str = "workstation") -> str:
        prefix = {
            "workstation": "WS-",
            "member-server": "SRV",
            "iis-server": "WEB",
            "domain-controller": "DC",
        }[role]
        return f"{prefix}{self.random_int(1, 999):03d}"

    def windows_user_sid(self) -> str:
        parts = "-".join(str(self.random_int(1_000_000_000, 3_999_999_999)) for _ in range(3))
        return f"S-1-5-21-{parts}-{self.random_int(1000, 99_999)}"

    def appcmd_command_line(self, catalogue: Catalogue, intent: str | None = None) -> str:
        """An AppCmd command line from a scenario of ``catalogue`` (``intent`` narrows the choice)."""
        scenarios = [s for s in catalogue.scenarios.values() if intent is None or s.intent == intent]
        if not scenarios:
            raise ValueError(f"no scenario has intent {intent!r}")
        steps = [step for s in scenarios for step in s.steps if step.image.startswith("appcmd")]
        return (
            self.random_element(steps)
            .command_line.replace("{pool}", "DefaultAppPool")
            .replace("{site}", "Default Web Site")
            .replace("{vdir}", "Default Web Site/")
        )

    def process_event(
        self, catalogue: Catalogue, scenario: str | None = None, source: str | None = None
    ) -> dict[str, Any]:
        """One labelled document: a target event of ``catalogue``'s ``scenario`` (or any) in ``source``."""
        chosen = (
            catalogue.scenario(scenario)
            if scenario
            else self.random_element(list(catalogue.scenarios.values()))
        )
        sources = scenario_sources(chosen)
        src = SOURCES[source] if source else self.random_element(sources)
        if src not in sources:
            raise ValueError(f"scenario {chosen.id} does not apply to source {src.name}")
        fleet = small_fleet()
        linux = fleet.hosts_with_role("linux-server")
        host_index = self.random_element(sorted(fleet.iis)) if chosen.os_type == "windows" else linux[0]
        site = fleet.iis.get(host_index) or fleet.iis[min(fleet.iis)]
        ctx = IisContext(
            host=fleet.hosts[host_index],
            apppool_user=site.pool_users[0],
            admin=fleet.admins[0],
            system=fleet.system,
            pools=site.pools,
            sites=site.sites,
            vdirs=site.vdirs,
            start_ns=int(DEFAULT_START.timestamp() * 1e9) + self.random_int(0, 604_800) * 1_000_000_000,
            next_pid=lambda: self.random_int(100, 16_000) * 4,
            next_entity_id=lambda: (
                f"{self.random_int(0, 2**64 - 1):016x}{self.random_int(0, 2**64 - 1):016x}"
            ),
        )
        targets = [launch for launch in build_launches(chosen, ctx) if launch.label.role == "target"]
        launch = self.random_element(targets)
        launch.record_id = self.random_int(1, 10_000_000)
        return src.render(launch)
