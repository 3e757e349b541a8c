using Xunit;

namespace Checkpoint.Tests;

/// <summary>
/// A fact that needs the shared GSM8K files (../shared/data). Where they are absent (a user's clone), the test
/// is reported as skipped with <see cref="SharedData.MissingReason"/> instead of passing without checking anything.
/// </summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the shared data directory is absent.</summary>
    public SharedDataFactAttribute()
    {
        if (SharedData.Directory is null)
        {
            Skip = SharedData.MissingReason;
        }
    }
}
