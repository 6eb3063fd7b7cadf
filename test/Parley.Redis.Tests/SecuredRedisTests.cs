using System.Diagnostics;
using System.Globalization;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// The adapter on a Redis that demands credentials (an ACL user and the default user's password) and on one that
/// speaks only TLS (<c>rediss://</c>, a CA made here with openssl): two nodes carry a broadcast across, classic and
/// sharded.
/// </summary>
public sealed class SecuredRedisTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_acl_user_and_a_password_are_taken_from_the_url(bool sharded)
    {
        await using var redis = await RedisServer.StartAsync("--requirepass", "root-secret");
        await redis.CliAsync("-a", "root-secret", "--no-auth-warning", "ACL", "SETUSER", "app", "on", ">app pass", "~*", "&*", "+@all");
        // The password has a space, percent-encoded as Node users write it.
        var user = $"redis://app:app%20pass@127.0.0.1:{redis.Port}";
        var root = $"redis://:root-secret@127.0.0.1:{redis.Port}";
        await using var a = await ParleyNode.StartAsync(user, sharded);
        await using var b = await ParleyNode.StartAsync(root, sharded);
        await CrossAsync(a, b, new Authenticated(redis));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls_with_a_private_ca(bool sharded)
    {
        var dir = Directory.CreateTempSubdirectory("parley-tls-").FullName;
        try
        {
            await OpenSslAsync(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=parley-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
            await OpenSslAsync(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
            await File.WriteAllTextAsync(Path.Combine(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            await OpenSslAsync(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
            var tlsPort = LoopbackPort.Free();
            await using var redis = await RedisServer.StartAsync(
                "--tls-port", tlsPort.ToString(CultureInfo.InvariantCulture), "--tls-auth-clients", "no",
                "--tls-cert-file", Path.Combine(dir, "server.crt"), "--tls-key-file", Path.Combine(dir, "server.key"), "--tls-ca-cert-file", Path.Combine(dir, "ca.crt"));
            var url = $"rediss://127.0.0.1:{tlsPort}";
            var ca = Path.Combine(dir, "ca.crt");
            await using var a = await ParleyNode.StartAsync(url, sharded, o => o.Configuration!.TrustIssuer(ca));
            await using var b = await ParleyNode.StartAsync(url, sharded, o => o.Configuration!.TrustIssuer(ca));
            // The nodes reach Redis only through its TLS port (it speaks nothing else), trusting the private CA.
            await CrossAsync(a, b, redis);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task CrossAsync(ParleyNode a, ParleyNode b, IRedisDeployment redis)
    {
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        // The count shows b's request subscription; its broadcast subscription may be confirmed a moment later.
        await TestTimeouts.Eventually(() => a.Adapter.Connections.IsReady && b.Adapter.Connections.IsReady, because: "both adapters subscribed");
        await using var clients = NodeDriver.Start();
        var b1 = await clients.ConnectAsync(b.Url, ["r"]);
        if (a.Adapter is ShardedRedisAdapter)
        {
            await Wait.ForRoomChannelAsync(redis, "r", 1);
        }
        await a.Io.To("r").EmitAsync("hello", 1).WithTimeout();
        Assert.Equal(1, (await clients.ExpectNextAsync(b1.Handle, "hello"))[0]!.GetValue<int>());
    }

    /// <summary>The shard-subscriber count asked with the root password.</summary>
    private sealed class Authenticated(RedisServer redis) : IRedisDeployment
    {
        public string Url => redis.Url;

        public async Task<long> ShardSubscribersAsync(string channel) =>
            long.Parse((await redis.CliAsync("-a", "root-secret", "--no-auth-warning", "PUBSUB", "SHARDNUMSUB", channel)).Split('\n')[^1].Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task OpenSslAsync(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        Assert.True(p.ExitCode == 0, "openssl " + string.Join(' ', args) + ": " + await error);
    }
}
