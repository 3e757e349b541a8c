using System;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using Checkpoint.Security;
using Checkpoint.Store;
using Xunit;

namespace Checkpoint.Tests;

public sealed class StoredProcessSignatureTests
{
    private static RunState State(string block = "{ $_.answer }")
    {
        var state = new RunState
        {
            RunId = "20261206_gsm8k_model_0123abcd",
            DatasetPath = "/data/gsm8k.csv",
            Model = "model",
            ConfigJson = "{\"endpoint\":\"http://127.0.0.1:8080/v1\",\"temperature\":0.5}",
            Seed = 42,
        };
        state.Settings["process"] = block;
        state.Settings["checkpoint_every"] = 10;
        state.Settings["max_cost"] = 1.50m;
        state.Settings["retry_on"] = new[] { "409", "System.TimeoutException" };
        return state;
    }

    private static byte[] Key(byte fill) => Enumerable.Repeat(fill, UserKey.Length).ToArray();

    [Fact]
    public void AStateSignedWithTheKeyVerifiesAfterItsFileIsWrittenAndReadBack()
    {
        using var dir = new TestDirectory();
        RunState state = State();
        StoredProcessSignature.Sign(Key(1), state);
        string path = dir.File("run_resume_state.json");
        StateFile.Write(path, state);
        StateReadResult read = StateFile.Read(path);
        Assert.Equal(StateReadStatus.Valid, read.Status);
        Assert.True(StoredProcessSignature.Verify(Key(1), read.State!));
    }

    [Theory]
    [InlineData("process")]
    [InlineData("config")]
    [InlineData("setting")]
    [InlineData("dataset")]
    [InlineData("run")]
    public void AnyChangeToWhatAResumeTakesFromTheStateBreaksTheSignature(string what)
    {
        RunState state = State();
        state.Settings[StoredProcessSignature.Setting] = StoredProcessSignature.Compute(Key(1), state);
        switch (what)
        {
            case "process": state.Settings["process"] = "{ Set-Content /tmp/owned 1; $_.answer }"; break;
            case "config": state.ConfigJson = "{\"endpoint\":\"http://attacker.invalid/v1\",\"temperature\":0.5}"; break;
            case "setting": state.Settings["import_module"] = new[] { "/tmp/evil.psm1" }; break;
            case "dataset": state.DatasetPath = "/data/other.csv"; break;
            case "run": state.RunId = "20261206_gsm8k_model_fedcba98"; break;
        }

        Assert.False(StoredProcessSignature.Verify(Key(1), state));
    }

    [Fact]
    public void AnotherKeyOrNoSignatureNeverVerifies()
    {
        RunState state = State();
        Assert.False(StoredProcessSignature.Verify(Key(1), state));
        state.Settings[StoredProcessSignature.Setting] = StoredProcessSignature.Compute(Key(1), state);
        Assert.False(StoredProcessSignature.Verify(Key(2), state));
        state.Settings[StoredProcessSignature.Setting] = "00";
        Assert.False(StoredProcessSignature.Verify(Key(1), state));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void AMissingKeyIsMadeReadableByItsOwnerAloneInAFolderOfItsOwn()
    {
        using var dir = new TestDirectory();
        string path = Path.Combine(dir.Path, "profile", "checkpoint", "key");
        byte[]? key = UserKey.TryLoad(path, create: true, out string? problem);
        Assert.Null(problem);
        Assert.Equal(UserKey.Length, key!.Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(key, UserKey.TryLoad(path, create: true, out _));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void AKeyFileOthersCanReadIsRefusedWithTheReasonAndAMissingOneIsNotMadeWhenOnlyVerifying()
    {
        using var dir = new TestDirectory();
        string path = dir.File("key");
        Assert.Null(UserKey.TryLoad(path, create: false, out string? missing));
        Assert.Contains("does not exist", missing, StringComparison.Ordinal);
        Assert.False(File.Exists(path));

        File.WriteAllBytes(path, Key(7));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Null(UserKey.TryLoad(path, create: true, out string? open));
        Assert.Contains("0644", open, StringComparison.Ordinal);
        Assert.Contains("chmod 600", open, StringComparison.Ordinal);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(Key(7), UserKey.TryLoad(path, create: false, out _));
        File.WriteAllBytes(path, new byte[5]);
        Assert.Null(UserKey.TryLoad(path, create: false, out string? shortKey));
        Assert.Contains("5 bytes", shortKey, StringComparison.Ordinal);
    }
}
