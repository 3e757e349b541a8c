using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace Checkpoint.Tests;

/// <summary>The one table of error ids: every id is in it, and it alone says which end the command.</summary>
public sealed class ErrorIdsTests
{
    [Fact]
    public void EveryErrorIdIsInTheTableUnderItsOwnName()
    {
        string[] constants = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => { Assert.Equal(f.Name, f.GetValue(null)); return f.Name; })
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(constants, ErrorIds.All.OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void TheErrorsThatEndTheCommandAreThoseAfterWhichNothingCanGoOn()
    {
        Assert.Equal(
            new[] { "ApiOutage", "CacheDirectoryInvalid", "CheckpointWriteFailed", "InvalidLeaseSeconds", "InvalidPricing", "InvalidShard", "LeaseLost", "OutputDirectoryUnwritable", "ShardAutoFailed" },
            ErrorIds.All.Where(ErrorIds.EndsCommand).OrderBy(n => n, StringComparer.Ordinal));
        Assert.False(ErrorIds.EndsCommand("NoSuchId"));
        Assert.Equal(ErrorClass.NotSpecified, ErrorIds.ClassOf("NoSuchId"));
        Assert.Equal(ErrorClass.ResourceBusy, ErrorIds.ClassOf(ErrorIds.RunLocked));
    }
}
