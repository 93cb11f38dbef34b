"""Executables a Windows fleet runs, with the version resources and signatures their sensors report.

Hashes are not those of real builds (none is shipped here): they are derived from the
path and version so that each image has stable, distinct, well-formed digests. Signers
are the subjects real files are signed by: Windows's own binaries through the catalogues
that hold their hashes ("Microsoft Windows", which a renamed copy keeps), Microsoft's
other products ("Microsoft Corporation") and other vendors with their own certificates.
"""

from __future__ import annotations

import hashlib

from generators.model import Image

__all__ = ["IMAGES", "image", "make_image"]

_MS = "Microsoft Corporation"  # the company, and the signer of its products outside Windows
_WIN = "Microsoft® Windows® Operating System"
_V = "10.0.17763.1 (WinBuild.160101.0800)"
_IIS = "Internet Information Services"
_WINDOWS_SIGNER = "Microsoft Windows"


def make_image(
    executable: str,
    original_file_name: str | None,
    description: str | None,
    product: str | None = _WIN,
    company: str | None = _MS,
    file_version: str | None = _V,
    signer: str | None = _WINDOWS_SIGNER,
) -> Image:
    seed = f"{executable.lower()}|{original_file_name}|{file_version}".encode()
    return Image(
        executable=executable,
        original_file_name=original_file_name,
        company=company,
        description=description,
        product=product,
        file_version=file_version,
        md5=hashlib.md5(seed, usedforsecurity=False).hexdigest(),
        sha1=hashlib.sha1(seed, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(seed).hexdigest(),
        signer=signer,
    )


_S32 = "C:\\Windows\\System32\\"
_CATALOGUE = [
    # key, executable, OriginalFileName, description, product, company, version, signer
    (
        "appcmd",
        _S32 + "inetsrv\\appcmd.exe",
        "appcmd.exe",
        "Application Server Command Line Admin Tool",
        _IIS,
    ),
    (
        # The kernel reports the path as the caller spelled it: a web shell that runs
        # APPCMD.EXE yields an upper-case process.name, while the version resource is unchanged.
        "appcmd-upper",
        "C:\\WINDOWS\\system32\\inetsrv\\APPCMD.EXE",
        "appcmd.exe",
        "Application Server Command Line Admin Tool",
        _IIS,
    ),
    (
        "appcmd-wow64",
        "C:\\Windows\\SysWOW64\\inetsrv\\appcmd.exe",
        "appcmd.exe",
        "Application Server Command Line Admin Tool",
        _IIS,
    ),
    (
        "appcmd-iisexpress",
        "C:\\Program Files\\IIS Express\\appcmd.exe",
        "appcmd.exe",
        "Application Server Command Line Admin Tool",
        "Internet Information Services Express",
        _MS,
        "10.0.22489.1000 (WinBuild.160101.0800)",
        _MS,
    ),
    (
        "appcmd-renamed",
        "C:\\Users\\Public\\Libraries\\svcupd.exe",
        "appcmd.exe",
        "Application Server Command Line Admin Tool",
        _IIS,
    ),
    (
        "appcmd-renamed-mui",
        "C:\\ProgramData\\Temp\\iisutil.exe",
        "appcmd.exe.mui",
        "Application Server Command Line Admin Tool",
        _IIS,
    ),
    ("w3wp", _S32 + "inetsrv\\w3wp.exe", "w3wp.exe", "IIS Worker Process", _IIS),
    ("inetmgr", _S32 + "inetsrv\\InetMgr.exe", "InetMgr.exe", "IIS Manager", _IIS),
    ("iisreset", _S32 + "iisreset.exe", "iisreset.exe", "IIS Restart Command Line Utility", _IIS),
    (
        "aspnet_regiis",
        "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_regiis.exe",
        "aspnet_regiis.exe",
        "ASP.NET IIS Registration Tool",
        "Microsoft® .NET Framework",
        _MS,
        "4.8.3761.0",
        _MS,
    ),
    ("cmd", _S32 + "cmd.exe", "Cmd.Exe", "Windows Command Processor"),
    ("conhost", _S32 + "conhost.exe", "CONHOST.EXE", "Console Window Host"),
    ("powershell", _S32 + "WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE", "Windows PowerShell"),
    (
        "pwsh",
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
        "pwsh.dll",
        "pwsh",
        "PowerShell",
        _MS,
        "7.4.6.500",
        _MS,
    ),
    ("svchost", _S32 + "svchost.exe", "svchost.exe", "Host Process for Windows Services"),
    ("services", _S32 + "services.exe", "services.exe", "Services and Controller app"),
    ("explorer", "C:\\Windows\\explorer.exe", "EXPLORER.EXE", "Windows Explorer"),
    ("userinit", _S32 + "userinit.exe", "USERINIT.EXE", "Userinit Logon Application"),
    ("taskhostw", _S32 + "taskhostw.exe", "taskhostw.exe", "Host Process for Windows Tasks"),
    ("runtimebroker", _S32 + "RuntimeBroker.exe", "RuntimeBroker.exe", "Runtime Broker"),
    (
        "searchprotocolhost",
        _S32 + "SearchProtocolHost.exe",
        "SearchProtocolHost.exe",
        "Microsoft Windows Search Protocol Host",
    ),
    ("searchindexer", _S32 + "SearchIndexer.exe", "SearchIndexer.exe", "Microsoft Windows Search Indexer"),
    ("backgroundtaskhost", _S32 + "backgroundTaskHost.exe", "backgroundTaskHost.exe", "Background Task Host"),
    ("dllhost", _S32 + "dllhost.exe", "dllhost.exe", "COM Surrogate"),
    ("rundll32", _S32 + "rundll32.exe", "RUNDLL32.EXE", "Windows host process (Rundll32)"),
    ("wmiprvse", _S32 + "wbem\\WmiPrvSE.exe", "Wmiprvse.exe", "WMI Provider Host"),
    ("msiexec", _S32 + "msiexec.exe", "msiexec.exe", "Windows® installer"),
    ("taskmgr", _S32 + "Taskmgr.exe", "Taskmgr.exe", "Task Manager"),
    ("mmc", _S32 + "mmc.exe", "MMC.EXE", "Microsoft Management Console"),
    ("notepad", _S32 + "notepad.exe", "NOTEPAD.EXE", "Notepad"),
    ("net", _S32 + "net.exe", "net.exe", "Net Command"),
    ("ipconfig", _S32 + "ipconfig.exe", "ipconfig.exe", "IP Configuration Utility"),
    ("whoami", _S32 + "whoami.exe", "whoami.exe", "whoami - displays logged on user information"),
    ("tasklist", _S32 + "tasklist.exe", "tasklist.exe", "Lists the current running tasks."),
    ("sc", _S32 + "sc.exe", "sc.exe", "Service Control Manager Configuration Tool"),
    ("reg", _S32 + "reg.exe", "reg.exe", "Registry Console Tool"),
    ("schtasks", _S32 + "schtasks.exe", "schtasks.exe", "Task Scheduler Configuration Tool"),
    ("gpupdate", _S32 + "gpupdate.exe", "GPUpdate.exe", "Microsoft® Windows Group Policy Update Utility"),
    ("wevtutil", _S32 + "wevtutil.exe", "wevtutil.exe", "Eventing Command Line Utility"),
    ("findstr", _S32 + "findstr.exe", "FINDSTR.EXE", "Find String (QGREP) Utility"),
    ("robocopy", _S32 + "Robocopy.exe", "robocopy.exe", "Microsoft® Robust File Copy for Windows"),
    ("dsquery", _S32 + "dsquery.exe", "dsquery.exe", "Active Directory Domain Services Directory Query"),
    ("repadmin", _S32 + "repadmin.exe", "repadmin.exe", "Replication Diagnosis Tool"),
    (
        "mpcmdrun",
        "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe",
        "MpCmdRun.exe",
        "Microsoft Malware Protection Command Line Utility",
        "Microsoft® Windows® Operating System",
        _MS,
        "4.18.24090.11",
        "Microsoft Windows Publisher",
    ),
    (
        "chrome",
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "chrome.exe",
        "Google Chrome",
        "Google Chrome",
        "Google LLC",
        "131.0.6778.86",
        "Google LLC",
    ),
    (
        "msedge",
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
        "msedge.exe",
        "Microsoft Edge",
        "Microsoft Edge",
        _MS,
        "131.0.2903.70",
        _MS,
    ),
    (
        "firefox",
        "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
        "firefox.exe",
        "Firefox",
        "Firefox",
        "Mozilla Corporation",
        "133.0",
        "Mozilla Corporation",
    ),
    (
        "winword",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        "WinWord.exe",
        "Microsoft Word",
        "Microsoft Office",
        _MS,
        "16.0.18129.20116",
        _MS,
    ),
    (
        "excel",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
        "Excel.exe",
        "Microsoft Excel",
        "Microsoft Office",
        _MS,
        "16.0.18129.20116",
        _MS,
    ),
    (
        "outlook",
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        "Outlook.exe",
        "Microsoft Outlook",
        "Microsoft Office",
        _MS,
        "16.0.18129.20116",
        _MS,
    ),
    (
        "teams",
        "C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\ms-teams.exe",
        "ms-teams.exe",
        "Microsoft Teams",
        "Microsoft Teams",
        _MS,
        "24295.605.3225.8804",
        _MS,
    ),
    (
        "onedrive",
        "C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe",
        "OneDrive.exe",
        "Microsoft OneDrive",
        "Microsoft OneDrive",
        _MS,
        "24.216.1027.0001",
        _MS,
    ),
    (
        "git",
        "C:\\Program Files\\Git\\cmd\\git.exe",
        "git.exe",
        "Git for Windows",
        "Git",
        "The Git Development Community",
        "2.47.1.1",
        "Johannes Schindelin",
    ),
    (
        "code",
        "C:\\Program Files\\Microsoft VS Code\\Code.exe",
        "electron.exe",
        "Visual Studio Code",
        "Visual Studio Code",
        _MS,
        "1.95.3",
        _MS,
    ),
    (
        "logparser",
        "C:\\Program Files (x86)\\Log Parser 2.2\\LogParser.exe",
        "LogParser.exe",
        "Log Parser",
        "Microsoft Log Parser",
        _MS,
        "2.2.10.0",
        _MS,
    ),
    ("dism", _S32 + "Dism.exe", "DISM.EXE", "Dism Image Servicing Utility"),
]

IMAGES: dict[str, Image] = {entry[0]: make_image(*entry[1:]) for entry in _CATALOGUE}


def image(key: str) -> Image:
    """The catalogue image for ``key`` (for example ``"appcmd"``)."""
    try:
        return IMAGES[key]
    except KeyError:
        raise KeyError(f"no image {key!r}; known: {', '.join(sorted(IMAGES))}") from None
