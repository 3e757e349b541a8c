using System;
using System.Text;
using Checkpoint.IO;
using Xunit;

namespace Checkpoint.Tests;

public sealed class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void MatchesTheStandardCheckValues(string text, uint expected)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(bytes));
        Assert.Equal(expected, Crc32C.AppendTable(0, bytes));
    }

    [Fact]
    public void TheRuntimeAndTableVersionsAgreeAtEveryLengthAndSplit()
    {
        // These tests run on .NET 10, where the runtime version must be the one in use (else this compares
        // the table with itself).
        Assert.True(Crc32C.UsesRuntime);
        var random = new System.Random(7);
        byte[] data = new byte[300];
        random.NextBytes(data);
        for (int length = 0; length <= data.Length; length++)
        {
            uint table = Crc32C.AppendTable(0, data.AsSpan(0, length));
            Assert.Equal(table, Crc32C.Compute(data.AsSpan(0, length)));
            int split = length / 3;
            Assert.Equal(table, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split, length - split)));
            // At every alignment of the 8-byte reads.
            int offset = length % 8;
            Assert.Equal(Crc32C.AppendTable(0, data.AsSpan(offset, length - offset)), Crc32C.Compute(data.AsSpan(offset, length - offset)));
        }
    }
}
