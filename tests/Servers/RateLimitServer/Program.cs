// A local OpenAI-compatible chat completions server with a rate limit, for the rate-limit benchmark and
// tests. POST /v1/chat/completions takes one request (or --tokens tokens) from a token bucket that refills at
// --rate per second up to --burst; an empty bucket is answered at once with 429 and 'Retry-After', without
// usage; otherwise the answer comes after --latency-ms with usage of --tokens tokens. Every request is
// logged, as it arrives, to --log as one JSON line: arrival (UTC, and ms since the server started), status.
// GET or POST /stop stops the server; so does the end of --lifetime seconds. The port, chosen by the OS on
// 127.0.0.1, is written to --port-file (temp + rename) once the server listens.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var options = ServerOptions.Parse(args);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
var app = builder.Build();

var clock = Stopwatch.StartNew();
var bucket = new Bucket(options.Rate, options.Burst, clock);
using var log = new RequestLog(options.LogPath, clock);
var cost = options.Limit == "tokens" ? options.Tokens : 1;
var retryAfter = options.RetryAfter.ToString(CultureInfo.InvariantCulture);
var completionTokens = Math.Min(20, options.Tokens);
var number = 0L;

app.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    var n = Interlocked.Increment(ref number);
    var admitted = bucket.TryTake(cost, out var arrival);
    var status = admitted ? 200 : 429;
    log.Write(n, arrival, status);
    // The body is read (and dropped) so that the client's send completes as against a real API.
    await context.Request.Body.CopyToAsync(Stream.Null);
    if (!admitted)
    {
        context.Response.StatusCode = 429;
        context.Response.Headers["Retry-After"] = retryAfter;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["error"] = new Dictionary<string, string> { ["message"] = "Rate limit reached.", ["type"] = options.Limit, ["code"] = "rate_limit_exceeded" },
        });
        return;
    }

    await Task.Delay(options.LatencyMs);
    await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
    {
        ["id"] = "chatcmpl-" + n.ToString(CultureInfo.InvariantCulture),
        ["object"] = "chat.completion",
        ["model"] = "rate-limited",
        ["choices"] = new[]
        {
            new Dictionary<string, object>
            {
                ["index"] = 0,
                ["message"] = new Dictionary<string, string> { ["role"] = "assistant", ["content"] = options.Content },
                ["finish_reason"] = "stop",
            },
        },
        ["usage"] = new Dictionary<string, int>
        {
            ["prompt_tokens"] = options.Tokens - completionTokens,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = options.Tokens,
        },
    });
});

var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
app.Map("/stop", (HttpContext context) =>
{
    lifetime.StopApplication();
    return Results.Text("stopping\n");
});

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
var port = new Uri(address).Port.ToString(CultureInfo.InvariantCulture);
File.WriteAllText(options.PortFile + ".tmp", port);
File.Move(options.PortFile + ".tmp", options.PortFile, true);
_ = Task.Delay(TimeSpan.FromSeconds(options.LifetimeSeconds)).ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
await app.WaitForShutdownAsync();

/// <summary>The command line: --name value pairs.</summary>
internal sealed record ServerOptions(
    string PortFile, string LogPath, string Limit, double Rate, double Burst, int LatencyMs, int Tokens,
    int RetryAfter, double LifetimeSeconds, string Content)
{
    public static ServerOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) { throw new ArgumentException($"Expected --name value, got '{args[i]}'."); }
            values[args[i][2..]] = args[i + 1];
        }

        string Text(string name, string? fallback = null) =>
            values.TryGetValue(name, out var value) ? value : fallback ?? throw new ArgumentException($"--{name} is required.");
        double Number(string name, double fallback) =>
            values.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

        var limit = Text("limit", "requests");
        if (limit is not ("requests" or "tokens")) { throw new ArgumentException("--limit is requests or tokens."); }
        var rate = Number("rate", limit == "tokens" ? 4800 : 40);
        return new ServerOptions(
            Text("port-file"), Text("log"), limit, rate, Number("burst", rate), (int)Number("latency-ms", 100),
            (int)Number("tokens", 120), (int)Number("retry-after", 1), Number("lifetime", 600), Text("content", "The answer is 42.\n#### 42"));
    }
}

/// <summary>A token bucket that refills continuously at a rate per second up to its size.</summary>
internal sealed class Bucket
{
    private readonly object _gate = new();
    private readonly double _rate;
    private readonly double _size;
    private readonly Stopwatch _clock;
    private double _level;
    private double _last;

    public Bucket(double rate, double size, Stopwatch clock)
    {
        _rate = rate;
        _size = size;
        _clock = clock;
        _level = size;
    }

    /// <summary>Takes <paramref name="cost"/> if the bucket holds it; the arrival is the time of the decision.</summary>
    public bool TryTake(double cost, out double arrivalMs)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed.TotalSeconds;
            _level = Math.Min(_size, _level + (now - _last) * _rate);
            _last = now;
            arrivalMs = now * 1000;
            if (_level < cost) { return false; }
            _level -= cost;
            return true;
        }
    }
}

/// <summary>One JSON line per request, written as the request arrives, in arrival order.</summary>
internal sealed class RequestLog : IDisposable
{
    private readonly object _gate = new();
    private readonly StreamWriter _writer;
    private readonly DateTime _startUtc;
    private readonly Stopwatch _clock;

    public RequestLog(string path, Stopwatch clock)
    {
        _writer = new StreamWriter(path, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        _clock = clock;
        _startUtc = DateTime.UtcNow - clock.Elapsed;
    }

    public void Write(long n, double arrivalMs, int status)
    {
        var t = _startUtc.AddMilliseconds(arrivalMs).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var line = string.Create(CultureInfo.InvariantCulture, $"{{\"n\":{n},\"t\":\"{t}\",\"ms\":{arrivalMs:0.000},\"status\":{status}}}");
        lock (_gate) { _writer.WriteLine(line); }
    }

    public void Dispose()
    {
        lock (_gate) { _writer.Dispose(); }
    }
}
