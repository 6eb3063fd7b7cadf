// The chat page. Everything received is rendered with textContent: text is never HTML here.
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { room: "chat", rooms: new Map() }; // room -> { messages: [], ids: Set, users: [] }
  const socket = io({ transports: ["polling", "websocket"] });

  const setStatus = (text, cls) => { $("status").textContent = text; $("status").className = cls; };
  const roomState = (room) => {
    if (!state.rooms.has(room)) state.rooms.set(room, { messages: [], ids: new Set(), users: [] });
    return state.rooms.get(room);
  };

  function renderRooms() {
    const list = $("rooms");
    list.replaceChildren();
    for (const room of state.rooms.keys()) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "#" + room;
      button.setAttribute("aria-current", room === state.room ? "true" : "false");
      button.addEventListener("click", () => { state.room = room; render(); });
      li.append(button);
      list.append(li);
    }
  }

  function messageItem(m) {
    const li = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = m.user;
    const time = document.createElement("time");
    const date = new Date(m.ts);
    time.dateTime = date.toISOString();
    time.textContent = date.toLocaleTimeString();
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text;
    li.append(who, " ", time, " ", text);
    return li;
  }

  function render() {
    renderRooms();
    $("room-title").textContent = "#" + state.room;
    const r = roomState(state.room);
    $("messages").replaceChildren(...r.messages.map(messageItem));
    $("messages").lastElementChild?.scrollIntoView({ block: "end" });
    $("presence").replaceChildren(...r.users.map((u) => { const li = document.createElement("li"); li.textContent = u; return li; }));
  }

  async function join(room) {
    const answer = await socket.timeout(5000).emitWithAck("join", room);
    if (!answer.ok) { $("error").textContent = answer.error; return; }
    roomState(room).messages = answer.history;
    roomState(room).ids = new Set(answer.history.map((m) => m.id));
    roomState(room).users = answer.users; // who is in the room now; presence deltas follow
    state.room = room;
    render();
  }

  socket.on("connect", async () => {
    setStatus("connected", "connected");
    $("status").dataset.recovered = String(socket.recovered);
    $("error").textContent = "";
    // Recovered (socket.io connection state recovery): same rooms on the server, and every message and presence
    // change missed meanwhile arrives now as events, once and in order. Otherwise join again and load history.
    if (socket.recovered) return;
    const rooms = state.rooms.size ? [...state.rooms.keys()] : ["chat"];
    for (const room of rooms) await join(room).catch(() => {});
  });
  socket.io.on("reconnect_attempt", () => setStatus("reconnecting…", "reconnecting"));
  socket.on("disconnect", (reason) => {
    setStatus(reason === "io server disconnect" ? "disconnected" : "reconnecting…", reason === "io server disconnect" ? "disconnected" : "reconnecting");
    if (reason === "io server disconnect") {
      // The server ends our sockets when the session ends (logout elsewhere): back to the login page.
      fetch("/api/me").then((r) => { if (r.status === 401) location.href = "/"; });
    }
  });
  socket.on("connect_error", (err) => {
    if (err.message === "unauthorized") location.href = "/";
    else setStatus("reconnecting…", "reconnecting");
  });
  socket.on("message", (m) => {
    const r = roomState(m.room);
    // Never twice: a message may already be in the history a join loaded.
    if (r.ids.has(m.id)) return;
    r.ids.add(m.id);
    r.messages.push(m);
    if (r.messages.length > 200) r.ids.delete(r.messages.shift().id);
    if (m.room === state.room) { $("messages").append(messageItem(m)); $("messages").lastElementChild.scrollIntoView({ block: "end" }); }
  });
  // Presence is a delta: names that left, then names that joined (a person once, however many tabs).
  socket.on("presence", ({ room, joined = [], left = [] }) => {
    const users = new Set(roomState(room).users);
    for (const name of left) users.delete(name);
    for (const name of joined) users.add(name);
    roomState(room).users = [...users].sort();
    if (room === state.room) render();
  });

  $("send").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    // Cleared when sent, not when acknowledged: an answer arriving while the next message is being typed must not
    // wipe it. A message that fails comes back into the box, unless something new has been typed there since.
    input.value = "";
    const failed = (error) => {
      $("error").textContent = error;
      if (!input.value) input.value = text;
    };
    try {
      const answer = await socket.timeout(5000).emitWithAck("message", { room: state.room, text });
      if (answer.ok) { $("error").textContent = ""; } else { failed(answer.error); }
    } catch { failed("not sent: no answer from the server"); }
  });
  $("join").addEventListener("submit", (e) => {
    e.preventDefault();
    const room = $("room-name").value.trim();
    if (room) join(room).then(() => { $("room-name").value = ""; });
  });
  fetch("/api/me").then((r) => r.ok ? r.json() : null).then((me) => { if (me) $("me").textContent = "as " + me.name; });
})();
