<#
.SYNOPSIS
    Windows: registers a scheduled task that runs resume-study.ps1 every 15 minutes, one instance at a time.
#>
param(
    [Parameter(Mandatory)][string] $StudyDirectory,
    [string] $TaskName = 'ResumeCheckpointStudy'
)

$ErrorActionPreference = 'Stop'
$script = Join-Path $StudyDirectory 'resume-study.ps1'
$action = New-ScheduledTaskAction -Execute 'pwsh.exe' -Argument "-NoProfile -NonInteractive -File `"$script`"" -WorkingDirectory $StudyDirectory
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 15)
$settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable
Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings
