// Parley's flagship: the seeds' chat. Users log in over HTTP (the name lives in the express-compatible session),
// then chat in rooms over Socket.IO; the sender's name always comes from the session.
//   dotnet run --project src/Parley.Chat [-- --urls http://127.0.0.1:5000 --secret s1 --secret s0
//                                         --redis redis://127.0.0.1:6379 (or a cluster's seed list redis://h1:7000,h2:7001,
//                                         or a StackExchange.Redis configuration string, e.g. Sentinel's serviceName=…)
//                                         --redis-adapter classic|sharded --redis-ca ca.pem --redis-cert c.pem --redis-key k.pem
//                                         --session-store memory|redis|postgres --postgres "<Npgsql connection string>"]
using Parley.Chat;

// `dotnet run --project src/Parley.Chat -- hash-admin-password` reads a password on stdin and prints its bcrypt hash
// for --admin-password-hash, so the password itself never sits in configuration or in a shell's history.
if (args is ["hash-admin-password"])
{
    Console.WriteLine(Parley.AdminUI.AdminUIPassword.Hash(Console.ReadLine() ?? ""));
    return 0;
}

WebApplication app;
try
{
    app = ChatApp.Create(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
    {
        Console.WriteLine($"Parley chat: open {url} in a browser");
    }
});
app.Run();
return 0;
