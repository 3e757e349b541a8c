using System;
using System.IO;
using System.Net;
using System.Reflection;

namespace Checkpoint.Runs;

/// <summary>
/// Decides whether a failure may pass on retry. Transient: HTTP 408, 429 and 5xx (from PowerShell 7's
/// HttpResponseException, Windows PowerShell's WebException, or HttpRequestException), timeouts, and
/// socket and IO errors. Everything else (400, 401, 403, 404, script errors, parameter errors) is permanent.
/// </summary>
public static class FailureClassifier
{
    /// <summary>The HTTP status of <paramref name="error"/> or of an exception inside it, when there is one.</summary>
    public static int? HttpStatusOf(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (StatusFrom(e) is int status)
            {
                return status;
            }
        }

        return null;
    }

    /// <summary>True when a retry of the attempt that failed with <paramref name="error"/> may succeed.</summary>
    public static bool IsTransient(Exception error)
    {
        if (HttpStatusOf(error) is int status)
        {
            return IsTransientStatus(status);
        }

        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case TimeoutException:
                case IOException:
                case System.Net.Sockets.SocketException:
                case OperationCanceledException:
                    return true;
                case WebException web:
                    return web.Status is WebExceptionStatus.Timeout or WebExceptionStatus.ConnectFailure or WebExceptionStatus.ConnectionClosed
                        or WebExceptionStatus.KeepAliveFailure or WebExceptionStatus.NameResolutionFailure or WebExceptionStatus.ReceiveFailure
                        or WebExceptionStatus.SendFailure or WebExceptionStatus.PipelineFailure or WebExceptionStatus.ProxyNameResolutionFailure;
            }

            if (e.GetType().FullName == "System.Net.Http.HttpRequestException")
            {
                // No status: the request never got an answer (connection refused, reset, DNS).
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The wait a server asked for in a Retry-After header (seconds, or an HTTP date), found on the response
    /// of <paramref name="error"/> or of an exception inside it; null when there is none.
    /// </summary>
    public static TimeSpan? RetryAfterOf(Exception error, DateTimeOffset now)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            object? response = Property(e, "Response");
            if (response is null)
            {
                continue;
            }

            // HttpResponseMessage: Headers.RetryAfter is a RetryConditionHeaderValue with Delta or Date.
            if (Property(response, "Headers") is object headers && Property(headers, "RetryAfter") is object condition)
            {
                if (Property(condition, "Delta") is TimeSpan delta)
                {
                    return delta;
                }

                if (Property(condition, "Date") is DateTimeOffset date)
                {
                    return date > now ? date - now : TimeSpan.Zero;
                }
            }

            // HttpWebResponse (Windows PowerShell): Headers["Retry-After"] as text.
            if (Property(response, "Headers") is System.Collections.Specialized.NameValueCollection collection)
            {
                return ParseRetryAfter(collection["Retry-After"], now);
            }
        }

        return null;
    }

    /// <summary>Parses a Retry-After value: delta-seconds or an HTTP date.</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value!.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
        {
            return date > now ? date - now : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>408 Request Timeout, 429 Too Many Requests, and every 5xx.</summary>
    public static bool IsTransientStatus(int status) => status == 408 || status == 429 || (status >= 500 && status <= 599);

    private static int? StatusFrom(Exception e)
    {
        // PowerShell 7: HttpResponseException.Response (HttpResponseMessage). Windows PowerShell: WebException.Response
        // (HttpWebResponse). .NET 5+: HttpRequestException.StatusCode. Read through reflection: no reference needed.
        object? response = Property(e, "Response");
        object? code = response is null ? Property(e, "StatusCode") : Property(response, "StatusCode");
        return code switch
        {
            HttpStatusCode status => (int)status,
            int number => number,
            _ => null,
        };
    }

    private static object? Property(object target, string name)
    {
        try
        {
            return target.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance)?.GetValue(target);
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }
}
