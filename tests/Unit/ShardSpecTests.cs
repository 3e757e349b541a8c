using System;
using System.Collections.Generic;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

public sealed class ShardSpecTests
{
    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("2/4", 2, 4)]
    [InlineData(" 3/8 ", 3, 8)]
    [InlineData("4/4", 4, 4)]
    [InlineData("\t10/12\n", 10, 12)]
    [InlineData("1/1000", 1, 1000)]
    public void TryParseAcceptsKOfN(string text, int index, int count)
    {
        Assert.True(ShardSpec.TryParse(text, out ShardSpec? shard, out string? problem));

        Assert.Null(problem);
        Assert.NotNull(shard);
        Assert.Equal(index, shard!.Index);
        Assert.Equal(count, shard.Count);
        Assert.Equal($"{index}/{count}", shard.ToString());
        Assert.Equal($"shard-{index}-of-{count}", shard.FileTag);
    }

    [Theory]
    [InlineData("0/4", "1 <= k <= n")]
    [InlineData("5/4", "1 <= k <= n")]
    [InlineData("2/0", "1 <= k <= n")]
    [InlineData("0/0", "1 <= k <= n")]
    [InlineData("-1/4", "whole numbers")]
    [InlineData("2/-4", "whole numbers")]
    [InlineData("+2/4", "whole numbers")]
    [InlineData("a/b", "whole numbers")]
    [InlineData("2", "whole numbers")]
    [InlineData("2/4/8", "whole numbers")]
    [InlineData("", "whole numbers")]
    [InlineData("   ", "whole numbers")]
    [InlineData("/", "whole numbers")]
    [InlineData("2/", "whole numbers")]
    [InlineData("/4", "whole numbers")]
    [InlineData("1.5/4", "whole numbers")]
    [InlineData("2 / 4", "whole numbers")]
    [InlineData("2\\4", "whole numbers")]
    [InlineData("2-of-4", "whole numbers")]
    [InlineData("1e1/20", "whole numbers")]
    [InlineData("0x2/4", "whole numbers")]
    [InlineData("99999999999/99999999999", "whole numbers")]
    [InlineData("\u0662/\u0664", "whole numbers")]
    public void TryParseRejectsAnythingElseWithAMessage(string text, string reason)
    {
        Assert.False(ShardSpec.TryParse(text, out ShardSpec? shard, out string? problem));

        Assert.Null(shard);
        Assert.NotNull(problem);
        Assert.Contains("'" + text + "'", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseRejectsNull()
    {
        Assert.False(ShardSpec.TryParse(null, out ShardSpec? shard, out string? problem));

        Assert.Null(shard);
        Assert.Contains("is not a shard", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(5, 4)]
    [InlineData(1, 0)]
    [InlineData(-1, 4)]
    [InlineData(1, -1)]
    public void TheConstructorRefusesAnImpossibleShard(int index, int count)
    {
        ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardSpec(index, count));
        Assert.Contains($"{index}/{count}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardsAreEqualByIndexAndCount()
    {
        var a = new ShardSpec(2, 4);
        ShardSpec.TryParse("2/4", out ShardSpec? b, out _);

        Assert.Equal(a, b);
        Assert.True(a.Equals((object?)b));
        Assert.Equal(a.GetHashCode(), b!.GetHashCode());
        Assert.NotEqual(a, new ShardSpec(1, 4));
        Assert.NotEqual(a, new ShardSpec(2, 5));
        Assert.False(a.Equals(null));
        Assert.False(a.Equals("2/4"));
        var set = new HashSet<ShardSpec> { a, b, new ShardSpec(4, 8) };
        Assert.Equal(2, set.Count);
    }

    [Fact]
    public void ToStringParsesBackToTheSameShard()
    {
        for (int n = 1; n <= 16; n++)
        {
            for (int k = 1; k <= n; k++)
            {
                var shard = new ShardSpec(k, n);
                Assert.True(ShardSpec.TryParse(shard.ToString(), out ShardSpec? parsed, out _));
                Assert.Equal(shard, parsed);
                Assert.Equal($"shard-{k}-of-{n}", shard.FileTag);
            }
        }
    }
}
