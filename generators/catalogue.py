"""What a Windows fleet runs: processes, their parents, command lines, owners and rhythms.

Weights are relative start frequencies across the fleet (svchost and browser child
processes dominate real telemetry); ``roles`` say where a process runs; ``rhythm``
says when: ``office`` (working hours, weekdays), ``constant`` or ``nightly``.
Templates take ``{user}``, ``{guid}``, ``{n}``, ``{file}``, ``{url}``, ``{pool}``,
``{site}``, ``{host}`` and ``{domain}``; the fleet renders a few variants of each. A
template that is started by other parents, or as another account, than the rest of its
process says so in a :class:`Run`.

Parents are image keys, as Windows pairs them: services.exe starts svchost.exe, which
hosts the services that start most background work (``service`` names which one: the
Task Scheduler, DCOM's launcher, IIS's process activation), explorer.exe starts what
people open, a browser's main process starts its renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PARENT_COMMAND_LINES", "PROCESSES", "SERVICE_HOSTS", "ProcessSpec", "Run"]

_ALL = ("workstation", "member-server", "iis-server", "domain-controller")
_SERVERS = ("member-server", "iis-server", "domain-controller")
_DESK = ("workstation",)


@dataclass(frozen=True)
class Run:
    """A command line whose parents, account or service host differ from its process's."""

    command: str
    parents: tuple[str, ...] | None = None
    user: str | None = None
    service: str | None = None
    leaf: bool = False  # it runs no program of its own (``cmd /c dir``): no child is given it as parent


@dataclass(frozen=True)
class ProcessSpec:
    image: str
    templates: tuple[str | Run, ...]
    parents: tuple[str, ...]
    weight: float
    user: str  # person, system, local-service, network-service, service, admin, apppool
    roles: tuple[str, ...] = _ALL
    rhythm: str = "constant"
    service: str = "Schedule"  # the service (a key of SERVICE_HOSTS) whose svchost.exe starts it


# svchost.exe as it runs each service that starts processes (Windows 10 and Server 2019 on
# give most services a process of their own, ``-p -s NAME``; IIS's stay grouped).
SERVICE_HOSTS = {
    "Schedule": "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
    "DcomLaunch": "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
    "WAS": "C:\\Windows\\system32\\svchost.exe -k iissvcs",
}

# The command line of a parent that is one long-running process (a service, the logon
# chain, a browser's or an editor's main process); any other parent is one of its own
# process's first variants.
PARENT_COMMAND_LINES = {
    "services": "C:\\Windows\\system32\\services.exe",
    "userinit": "C:\\Windows\\system32\\userinit.exe",
    "searchindexer": "C:\\Windows\\system32\\SearchIndexer.exe /Embedding",
    "msiexec": "C:\\Windows\\system32\\msiexec.exe /V",
    "chrome": '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" ',
    "msedge": '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --no-startup-window',
    "firefox": '"C:\\Program Files\\Mozilla Firefox\\firefox.exe" ',
    "code": '"C:\\Program Files\\Microsoft VS Code\\Code.exe" ',
}


PROCESSES: tuple[ProcessSpec, ...] = (
    ProcessSpec(
        "svchost",
        (
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
            Run(
                "C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s EventLog",
                user="local-service",
            ),
            "C:\\Windows\\System32\\svchost.exe -k wsappx -p -s AppXSvc",
            # A per-user service: it runs as the user who is logged on.
            Run("C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup -s CDPUserSvc_{n}", user="person"),
            "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s BITS",
            "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
        ),
        ("services",),
        30.0,
        "system",
    ),
    ProcessSpec(
        "conhost",
        ("\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",),
        ("cmd", "powershell"),
        9.0,
        "person",
    ),
    ProcessSpec(
        "chrome",
        (
            '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US --renderer-client-id={n} --mojo-platform-channel-handle=4{n} /prefetch:1',
            '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US /prefetch:8',
            Run('"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" {url}', parents=("explorer",)),
        ),
        ("chrome",),
        14.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "msedge",
        (
            '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --type=renderer --renderer-client-id={n} /prefetch:1',
            Run(
                '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument {url}',
                parents=("explorer",),
            ),
        ),
        ("msedge",),
        8.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "firefox",
        (
            '"C:\\Program Files\\Mozilla Firefox\\firefox.exe" -contentproc --channel=1{n} -childID {n} -isForBrowser tab',
        ),
        ("firefox",),
        2.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "teams",
        (
            '"C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\ms-teams.exe" msteams:system-initiated',
        ),
        ("explorer",),
        2.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "winword",
        (
            '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "C:\\Users\\{user}\\Documents\\{file}.docx" /o ""',
        ),
        ("explorer", "outlook"),
        2.5,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "excel",
        (
            '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "C:\\Users\\{user}\\Documents\\{file}.xlsx"',
        ),
        ("explorer", "outlook"),
        2.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "outlook",
        ('"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" ',),
        ("explorer",),
        1.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "onedrive",
        ('"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe" /background',),
        ("explorer",),
        1.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec("explorer", ("C:\\Windows\\Explorer.EXE",), ("userinit",), 0.6, "person", _DESK, "office"),
    ProcessSpec(
        "taskhostw", ("taskhostw.exe {guid}", "taskhostw.exe Install $(Arg0)"), ("svchost",), 4.0, "person"
    ),
    ProcessSpec(
        "runtimebroker",
        ("C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",),
        ("svchost",),
        4.0,
        "person",
        _DESK,
        "office",
        service="DcomLaunch",
    ),
    ProcessSpec(
        "searchprotocolhost",
        (
            '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe{n}_ Global\\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\\Microsoft\\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon" ',
        ),
        ("searchindexer",),
        3.0,
        "system",
    ),
    ProcessSpec(
        "backgroundtaskhost",
        (
            '"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider',
        ),
        ("svchost",),
        3.0,
        "person",
        _DESK,
        service="DcomLaunch",
    ),
    ProcessSpec(
        "dllhost",
        ("C:\\Windows\\system32\\DllHost.exe /Processid:{guid}",),
        ("svchost",),
        3.0,
        "person",
        service="DcomLaunch",
    ),
    ProcessSpec(
        "rundll32",
        ("C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\PcaSvc.dll,PcaPatchSdbTask",),
        ("svchost",),
        0.6,
        "system",
    ),
    ProcessSpec(
        "wmiprvse",
        (
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
        ),
        ("svchost",),
        2.0,
        "network-service",
        service="DcomLaunch",
    ),
    ProcessSpec(
        "msiexec",
        (
            Run("C:\\Windows\\system32\\msiexec.exe /V", parents=("services",)),
            Run("C:\\Windows\\System32\\MsiExec.exe -Embedding {guid} C", parents=("msiexec",)),
        ),
        ("services", "msiexec"),
        0.5,
        "system",
    ),
    ProcessSpec(
        "mpcmdrun",
        (
            '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges',
        ),
        ("svchost",),
        0.5,
        "system",
        _ALL,
        "nightly",
    ),
    ProcessSpec(
        "cmd",
        (
            Run('"C:\\Windows\\system32\\cmd.exe" ', parents=("explorer",)),
            # A batch file: opened by a person, or run by a scheduled task.
            'C:\\Windows\\system32\\cmd.exe /c "C:\\Users\\{user}\\AppData\\Local\\Temp\\{file}.bat"',
            Run("cmd.exe /c dir C:\\Users\\{user}\\Desktop", parents=("explorer",), leaf=True),
            Run("cmd /c echo %PATH%", parents=("explorer",), leaf=True),
        ),
        ("explorer", "svchost"),
        3.0,
        "person",
    ),
    ProcessSpec(
        "powershell",
        (
            Run('"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" ', parents=("explorer",)),
            # Administration scripts, run by scheduled tasks as a service account.
            Run(
                "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\{file}.ps1",
                parents=("svchost",),
                user="service",
            ),
            Run(
                "powershell.exe -NoLogo -NonInteractive -Command Get-Service | Where-Object Status -eq Running",
                parents=("cmd", "svchost"),
                user="service",
                leaf=True,
            ),
        ),
        ("explorer", "svchost", "cmd"),
        2.0,
        "person",
    ),
    ProcessSpec(
        "pwsh",
        ('"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoLogo',),
        ("explorer",),
        0.3,
        "admin",
        _SERVERS,
    ),
    ProcessSpec(
        "git",
        (
            '"C:\\Program Files\\Git\\cmd\\git.exe" fetch --all',
            '"C:\\Program Files\\Git\\cmd\\git.exe" status',
        ),
        ("code", "cmd"),
        0.8,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "code",
        ('"C:\\Program Files\\Microsoft VS Code\\Code.exe" --type=utility',),
        ("code",),
        1.0,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "notepad",
        ('"C:\\Windows\\system32\\NOTEPAD.EXE" C:\\Users\\{user}\\Desktop\\{file}.txt',),
        ("explorer",),
        0.4,
        "person",
        _DESK,
        "office",
    ),
    ProcessSpec(
        "net",
        # Mapping a share; a help desk checking an account.
        (
            "net use",
            "net use S: \\\\{host}\\Shared /persistent:no",
            "C:\\Windows\\system32\\net.exe user {user} /domain",
        ),
        ("cmd", "powershell"),
        0.3,
        "person",
    ),
    ProcessSpec("ipconfig", ("ipconfig /all", "ipconfig /flushdns"), ("cmd",), 0.2, "person"),
    ProcessSpec("whoami", ("whoami /groups", "whoami"), ("cmd", "powershell"), 0.1, "person"),
    ProcessSpec("tasklist", ('tasklist /FI "IMAGENAME eq {file}.exe"',), ("cmd",), 0.1, "admin", _SERVERS),
    ProcessSpec(
        "sc", ("sc.exe query state= all", 'sc.exe qc "{file}"'), ("cmd", "powershell"), 0.2, "admin", _SERVERS
    ),
    ProcessSpec(
        "reg",
        ('reg.exe query "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion" /v CurrentBuild',),
        ("cmd",),
        0.2,
        "admin",
    ),
    ProcessSpec(
        "schtasks",
        ("schtasks.exe /query /fo LIST /v", 'schtasks.exe /run /tn "\\{file}"'),
        ("cmd", "powershell"),
        0.2,
        "admin",
        _SERVERS,
    ),
    ProcessSpec(
        "gpupdate",
        ("gpupdate.exe /target:computer /force", "gpupdate /force"),
        ("svchost", "cmd"),
        0.3,
        "system",
    ),
    ProcessSpec(
        "wevtutil",
        ("wevtutil.exe qe Application /c:20 /rd:true /f:text",),
        ("cmd", "powershell"),
        0.1,
        "admin",
        _SERVERS,
    ),
    ProcessSpec(
        "findstr",
        ('findstr /i "error" C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex{n}.log',),
        ("cmd",),
        0.1,
        "admin",
        ("iis-server",),
    ),
    ProcessSpec(
        "robocopy",
        ("robocopy C:\\inetpub\\wwwroot \\\\{host}\\backup$\\wwwroot /MIR /R:1 /W:1",),
        ("cmd", "svchost"),
        0.2,
        "service",
        ("iis-server", "member-server"),
        "nightly",
    ),
    ProcessSpec(
        "taskmgr", ('"C:\\Windows\\system32\\taskmgr.exe" /4',), ("explorer",), 0.2, "person", _DESK, "office"
    ),
    ProcessSpec(
        "mmc",
        (
            '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\services.msc" ',
            '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\eventvwr.msc" /s',
        ),
        ("explorer",),
        0.2,
        "admin",
        _SERVERS,
    ),
    ProcessSpec(
        "w3wp",
        (
            'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "{pool}" -v "v4.0" -l "webengine4.dll" -a \\\\.\\pipe\\iisipm{guid} -h "C:\\inetpub\\temp\\apppools\\{pool}\\{pool}.config" -w "" -m 0',
        ),
        ("svchost",),
        1.5,
        "apppool",
        ("iis-server",),
        service="WAS",
    ),
    ProcessSpec(
        "inetmgr",
        ('"C:\\Windows\\system32\\inetsrv\\InetMgr.exe" ',),
        ("explorer",),
        0.05,
        "admin",
        ("iis-server",),
        "office",
    ),
    ProcessSpec(
        "iisreset",
        ("iisreset /noforce", "iisreset /restart"),
        ("cmd", "svchost"),
        0.03,
        "admin",
        ("iis-server",),
        "nightly",
    ),
    ProcessSpec(
        "logparser",
        (
            '"C:\\Program Files (x86)\\Log Parser 2.2\\LogParser.exe" -i:IISW3C "SELECT TOP 10 cs-uri-stem FROM C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex{n}.log" -o:CSV',
        ),
        ("cmd", "svchost"),
        0.05,
        "service",
        ("iis-server",),
        "nightly",
    ),
    ProcessSpec("dsquery", ('dsquery user -name "{user}"',), ("cmd",), 0.05, "admin", ("domain-controller",)),
    ProcessSpec(
        "repadmin",
        ("repadmin /replsummary", "repadmin /showrepl"),
        ("cmd", "svchost"),
        0.1,
        "admin",
        ("domain-controller",),
    ),
    ProcessSpec(
        "dism",
        ("C:\\Windows\\system32\\Dism.exe /Online /Get-Features /Format:Table",),
        ("cmd", "svchost"),
        0.05,
        "system",
        _SERVERS,
    ),
)
