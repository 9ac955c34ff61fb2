[CmdletBinding()]
Param(
    [Parameter(Position=0,Mandatory=$false,ValueFromRemainingArguments=$true)]
    [string[]]$BuildArguments
)

Write-Output "PowerShell $($PSVersionTable.PSEdition) version $($PSVersionTable.PSVersion)"

Set-StrictMode -Version 2.0; $ErrorActionPreference = "Stop"; $ConfirmPreference = "None"; trap { Write-Error $_ -ErrorAction Continue; exit 1 }
$PSScriptRoot = Split-Path $MyInvocation.MyCommand.Path -Parent

###########################################################################
# CONFIGURATION
###########################################################################

$BuildProjectFile = "$PSScriptRoot\build\_build.csproj"
$TempDirectory = "$PSScriptRoot\.nuke\temp"

$DotNetGlobalFile = "$PSScriptRoot\global.json"
$DotNetInstallUrl = "https://dot.net/v1/dotnet-install.ps1"
$DotNetChannel = "STS"

$env:DOTNET_CLI_TELEMETRY_OPTOUT = 1
$env:DOTNET_NOLOGO = 1

###########################################################################
# EXECUTION
###########################################################################

function ExecSafe([scriptblock] $cmd) {
    & $cmd
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

# Use the installed SDK when it satisfies global.json (dotnet --version fails otherwise).
if ($null -ne (Get-Command "dotnet" -ErrorAction SilentlyContinue) -and `
     $(dotnet --version) -and $LASTEXITCODE -eq 0) {
    $env:DOTNET_EXE = (Get-Command "dotnet").Path
}
else {
    $DotNetInstallFile = "$TempDirectory\dotnet-install.ps1"
    New-Item -ItemType Directory -Path $TempDirectory -Force | Out-Null
    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    (New-Object System.Net.WebClient).DownloadFile($DotNetInstallUrl, $DotNetInstallFile)

    if (Test-Path $DotNetGlobalFile) {
        $DotNetGlobal = $(Get-Content $DotNetGlobalFile | Out-String | ConvertFrom-Json)
        if ($DotNetGlobal.PSObject.Properties["sdk"] -and $DotNetGlobal.sdk.PSObject.Properties["version"]) {
            $DotNetVersion = $DotNetGlobal.sdk.version
        }
    }

    $DotNetDirectory = "$TempDirectory\dotnet-win"
    if ($null -eq $DotNetVersion) {
        ExecSafe { & powershell $DotNetInstallFile -InstallDir $DotNetDirectory -Channel $DotNetChannel -NoPath }
    } else {
        ExecSafe { & powershell $DotNetInstallFile -InstallDir $DotNetDirectory -Version $DotNetVersion -NoPath }
    }
    $env:DOTNET_EXE = "$DotNetDirectory\dotnet.exe"
    $env:PATH = "$DotNetDirectory;$env:PATH"
}

Write-Output "Microsoft (R) .NET SDK version $(& $env:DOTNET_EXE --version)"

# The SQL tools that check the scripts before the fence (squawk, PostgreSQL's parser), pinned by tools/sql/package-lock.json:
# installed like the SDK, once, and again when the lock file changes. Without npm the checks refuse and say how to fix it.
$SqlToolsDirectory = "$PSScriptRoot\tools\sql"
$SqlToolsMarker = "$SqlToolsDirectory\node_modules\.package-lock.json"
if (-not (Test-Path $SqlToolsMarker) -or (Get-Item $SqlToolsMarker).LastWriteTime -lt (Get-Item "$SqlToolsDirectory\package-lock.json").LastWriteTime) {
    if (Get-Command npm -ErrorAction SilentlyContinue) {
        & npm install --prefix $SqlToolsDirectory --no-save --no-audit --no-fund --loglevel=error
        if ($LASTEXITCODE) { [Console]::Error.WriteLine("build.ps1: 'npm install' in $SqlToolsDirectory failed (above); the checks before the fence will refuse until it succeeds.") }
    } else {
        [Console]::Error.WriteLine("build.ps1: npm is not on the PATH, so the SQL tools in $SqlToolsDirectory are not installed; install Node.js 18 or later.")
    }
}

# Compiles the build program and prints only its path: at any verbosity `dotnet build` ends with its own "Build succeeded",
# which read like the outcome of the deployment that follows. Errors and warnings still reach the console.
$BuildProgram = & $env:DOTNET_EXE build $BuildProjectFile /nodeReuse:false /p:UseSharedCompilation=false -nologo --verbosity quiet -target:Build -getProperty:TargetPath
if ($LASTEXITCODE) { exit $LASTEXITCODE }
if (-not ($BuildProgram -is [string]) -or -not (Test-Path -LiteralPath $BuildProgram -PathType Leaf)) {
    [Console]::Error.WriteLine("build.ps1: building $BuildProjectFile named no program to run (its TargetPath was '$BuildProgram'): the project must build one assembly for one target framework. Set TargetFramework (not TargetFrameworks) and run again.")
    exit 1
}

# The build program itself, not `dotnet run`: nothing stands between it and the console, and its exit code is this script's.
ExecSafe { & $env:DOTNET_EXE $BuildProgram $BuildArguments }
