using System.Text.Json.Serialization;

namespace Parley.Chat;

/// <summary>Source-generated JSON for the chat's stored messages (camelCase, as clients receive them).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ChatMessage))]
internal sealed partial class ChatJson : JsonSerializerContext;
