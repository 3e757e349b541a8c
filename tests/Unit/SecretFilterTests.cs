using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Security;
using Xunit;
using Checkpoint.Security;

namespace Checkpoint.Tests;

public sealed class SecretFilterTests
{
    [Theory]
    [InlineData("api_key")]
    [InlineData("apiKey")]
    [InlineData("ApiKey")]
    [InlineData("API_KEY")]
    [InlineData("apikey")]
    [InlineData("APIKEY")]
    [InlineData("OPENAI_API_KEY")]
    [InlineData("X-Api-Key")]
    [InlineData("x-api-key")]
    [InlineData("key")]
    [InlineData("token")]
    [InlineData("Token")]
    [InlineData("ApiToken")]
    [InlineData("access_token")]
    [InlineData("accessToken")]
    [InlineData("auth.token")]
    [InlineData("password")]
    [InlineData("Password")]
    [InlineData("db password")]
    [InlineData("passwd")]
    [InlineData("pwd")]
    [InlineData("client_secret")]
    [InlineData("clientSecret")]
    [InlineData("secret")]
    [InlineData("Authorization")]
    [InlineData("authorization")]
    [InlineData("credential")]
    [InlineData("aws_credentials")]
    public void SecretNamesAreSecret(string name)
    {
        Assert.True(SecretFilter.IsSecretName(name), $"'{name}' should be a secret name");
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("maxTokens")]
    [InlineData("max-tokens")]
    [InlineData("tokens")]
    [InlineData("keywords")]
    [InlineData("monkey")]
    [InlineData("Monkey")]
    [InlineData("turkey")]
    [InlineData("keyboard")]
    [InlineData("tokenizer")]
    [InlineData("temperature")]
    [InlineData("top_p")]
    [InlineData("model")]
    [InlineData("seed")]
    [InlineData("system_prompt")]
    [InlineData("secretary")]
    [InlineData("")]
    public void OrdinaryNamesAreNotSecret(string name)
    {
        Assert.False(SecretFilter.IsSecretName(name), $"'{name}' should not be a secret name");
    }

    [Fact]
    public void ASecureStringIsASecretValueAndNothingElseIs()
    {
        using var secure = new SecureString();
        secure.AppendChar('x');

        Assert.True(SecretFilter.IsSecretValue(secure));
        Assert.False(SecretFilter.IsSecretValue("sk-looks-like-a-key"));
        Assert.False(SecretFilter.IsSecretValue(null));
        Assert.False(SecretFilter.IsSecretValue(42));
    }

    [Fact]
    public void WithoutSecretsDropsSecretEntriesAtEveryDepthAndKeepsTheRest()
    {
        using var secure = new SecureString();
        secure.AppendChar('s');
        var config = new Hashtable
        {
            ["temperature"] = 0.2,
            ["max_tokens"] = 512,
            ["keywords"] = new[] { "ducks", "eggs" },
            ["api_key"] = "sk-top",
            ["Authorization"] = "Bearer top",
            ["opaque"] = secure,
            ["provider"] = new Hashtable
            {
                ["name"] = "acme",
                ["apiKey"] = "sk-nested",
                ["options"] = new Dictionary<string, object?>
                {
                    ["client_secret"] = "cs-deep",
                    ["retries"] = 2,
                    ["password"] = "pw-deep",
                    ["X-Api-Key"] = "xk-deep",
                },
            },
            ["token"] = new Hashtable { ["value"] = "whole subtree is secret" },
        };

        SortedDictionary<string, object?> clean = SecretFilter.WithoutSecrets(config);

        Assert.Equal(new[] { "keywords", "max_tokens", "provider", "temperature" }, clean.Keys.ToArray());
        Assert.Equal(0.2, clean["temperature"]);
        Assert.Equal(512, clean["max_tokens"]);
        Assert.Equal(new[] { "ducks", "eggs" }, Assert.IsType<string[]>(clean["keywords"]));
        var provider = Assert.IsType<SortedDictionary<string, object?>>(clean["provider"]);
        Assert.Equal(new[] { "name", "options" }, provider.Keys.ToArray());
        Assert.Equal("acme", provider["name"]);
        var options = Assert.IsType<SortedDictionary<string, object?>>(provider["options"]);
        Assert.Equal(new[] { "retries" }, options.Keys.ToArray());
        Assert.Equal(2, options["retries"]);

        // The input is not changed.
        Assert.Equal(8, config.Count);
        Assert.Equal(4, ((IDictionary)((IDictionary)config["provider"]!)["options"]!).Count);
    }

    [Fact]
    public void WithoutSecretsDropsSecretEntriesInsideLists()
    {
        var config = new Hashtable
        {
            ["headers"] = new object[]
            {
                new Hashtable { ["Accept"] = "application/json", ["Authorization"] = "Bearer sk-in-a-list" },
            },
        };

        SortedDictionary<string, object?> clean = SecretFilter.WithoutSecrets(config);

        var headers = Assert.IsAssignableFrom<IEnumerable>(clean["headers"]).Cast<object>().ToList();
        IDictionary header = Assert.IsAssignableFrom<IDictionary>(Assert.Single(headers));
        Assert.False(header.Contains("Authorization"), "a secret inside a list of entries was kept");
        Assert.Equal("application/json", header["Accept"]);
    }

    [Fact]
    public void WithoutSecretsOfNullOrEmptyIsEmptyAndKeysBecomeStrings()
    {
        Assert.Empty(SecretFilter.WithoutSecrets(null));
        Assert.Empty(SecretFilter.WithoutSecrets(new Hashtable()));

        var clean = SecretFilter.WithoutSecrets(new Hashtable { [5] = "five", [1.5] = "one and a half" });

        Assert.Equal(new[] { "1.5", "5" }, clean.Keys.ToArray());
        Assert.Equal("five", clean["5"]);
    }
}
