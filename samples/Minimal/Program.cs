// The smallest Parley app: a page and Socket.IO on one ASP.NET Core host. Everyone who opens the page is in the
// room "lobby"; "hello" is broadcast to the room and acknowledged to its sender.
//   dotnet run --project samples/Minimal        (then open the URL it prints in two browser tabs)
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddParley();
var app = builder.Build();

app.MapGet("/", () => Results.Content(Page, "text/html; charset=utf-8"));
app.MapParley("/socket.io", io =>
{
    io.OnConnection(socket =>
    {
        socket.Join("lobby");
        socket.On<string>("hello", async (text, ack) =>
        {
            await socket.To("lobby").EmitAsync("hello", text);
            await ack(new { ok = true });
        });
    });
});
app.Run();

public partial class Program
{
    // The official browser client is served by MapParley at /socket.io/socket.io.js.
    private const string Page = """
        <!doctype html>
        <title>Parley: minimal</title>
        <ul id="log"></ul>
        <form id="form"><input id="text" autocomplete="off"><button>Say hello</button></form>
        <script src="/socket.io/socket.io.js"></script>
        <script>
          const socket = io();
          const log = (text) => document.getElementById("log").appendChild(document.createElement("li")).textContent = text;
          socket.on("hello", (text) => log("someone said: " + text));
          document.getElementById("form").addEventListener("submit", async (e) => {
            e.preventDefault();
            const text = document.getElementById("text").value;
            const answer = await socket.emitWithAck("hello", text);
            log("sent (ok: " + answer.ok + ")");
          });
        </script>
        """;
}
