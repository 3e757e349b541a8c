namespace Checkpoint;

/// <summary>
/// What kind of error an id is, named as PowerShell's ErrorCategory names it: the cmdlets give an
/// ErrorRecord the category of the same name.
/// </summary>
public enum ErrorClass
{
    /// <summary>No class fits.</summary>
    NotSpecified,

    /// <summary>A file or run that is not there.</summary>
    ObjectNotFound,

    /// <summary>A file that cannot be read.</summary>
    ReadError,

    /// <summary>A file whose content cannot be used.</summary>
    InvalidData,

    /// <summary>A parameter or setting that cannot be used.</summary>
    InvalidArgument,

    /// <summary>Something that cannot be done in the state things are in.</summary>
    InvalidOperation,

    /// <summary>A write that failed.</summary>
    WriteError,

    /// <summary>A folder or file this process may not write.</summary>
    PermissionDenied,

    /// <summary>A run another process holds.</summary>
    ResourceBusy,

    /// <summary>A run part this process no longer holds.</summary>
    ResourceUnavailable,

    /// <summary>An API that does not answer.</summary>
    ConnectionError,

    /// <summary>A file changed outside the module.</summary>
    SecurityError,
}
