using System.Buffers;
using System.Text;
using System.Text.Json;
using Parley.Protocol.SocketIO;

namespace Parley.Protocol.Tests.SocketIO;

public class SocketPacketDecoderTests
{
    private static SocketDecodeResult Decode(SocketPacketDecoder decoder, string text, out SocketPacket? packet) =>
        decoder.Decode(Encoding.UTF8.GetBytes(text), out packet);

    private static SocketPacket DecodeComplete(string text)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Complete, Decode(decoder, text, out var packet));
        return packet!;
    }

    private static string Json(JsonElement? element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SocketJson.WriteValue(buffer, element!.Value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // ---- protocol.md §1.3 inputs (Engine.IO '4' prefix removed) ----

    [Fact]
    public void Conformance_connect_vectors()
    {
        var main = DecodeComplete("0");
        Assert.Equal(SocketPacketType.Connect, main.Type);
        Assert.Equal("/", main.Namespace);
        Assert.Null(main.Data);

        Assert.Equal("{\"token\":\"123\"}", Json(DecodeComplete("0{\"token\":\"123\"}").Data));
        Assert.Equal("/custom", DecodeComplete("0/custom,").Namespace);
        var custom = DecodeComplete("0/custom,{\"token\":\"abc\"}");
        Assert.Equal("/custom", custom.Namespace);
        Assert.Equal("abc", custom.Data!.Value.GetProperty("token").GetString());
        Assert.Equal("/random", DecodeComplete("0/random").Namespace);
        Assert.Equal("/custom", DecodeComplete("1/custom").Namespace);
        Assert.Equal(SocketPacketType.Disconnect, DecodeComplete("1").Type);
    }

    [Theory]
    [InlineData("abc", SocketDecodeError.UnknownPacketType, "unknown packet type NaN")]
    [InlineData("2{}", SocketDecodeError.InvalidPayload, "invalid payload")]
    [InlineData("2abc[\"message-with-ack\",1]", SocketDecodeError.InvalidPayload, "invalid payload")]
    public void Conformance_invalid_format_vectors(string text, SocketDecodeError code, string message)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out var packet));
        Assert.Null(packet);
        Assert.Equal(code, decoder.LastErrorCode);
        Assert.Equal(message, decoder.LastError);
    }

    [Fact]
    public void Conformance_plain_event_and_ack()
    {
        var message = DecodeComplete("2[\"message\",1,\"2\",{\"3\":[true]}]");
        Assert.Equal("message", message.EventName);
        Assert.Null(message.AckId);
        Assert.Empty(message.Attachments);

        var withAck = DecodeComplete("2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]");
        Assert.Equal(456, withAck.AckId);
        Assert.Equal("message-with-ack", withAck.EventName);
    }

    // ---- binary reconstruction ----

    [Fact]
    public void Binary_event_is_reconstructed_in_order()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments,
            Decode(decoder, "52-[\"message\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]", out var packet));
        Assert.Null(packet);
        Assert.True(decoder.IsReconstructing);

        Assert.Equal(SocketDecodeResult.AwaitingAttachments, decoder.AddAttachment(new byte[] { 1, 2, 3 }, out packet));
        Assert.Null(packet);
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 4, 5, 6 }, out packet));
        Assert.False(decoder.IsReconstructing);

        Assert.NotNull(packet);
        Assert.Equal(SocketPacketType.BinaryEvent, packet.Type);
        Assert.Equal("message", packet.EventName);
        Assert.Equal(2, packet.Attachments.Count);
        Assert.Equal(new byte[] { 1, 2, 3 }, packet.Attachments[0].ToArray());
        Assert.Equal(new byte[] { 4, 5, 6 }, packet.Attachments[1].ToArray());

        var args = packet.Data!.Value;
        Assert.True(packet.TryGetAttachment(args[1], out var first));
        Assert.Equal(new byte[] { 4, 5, 6 }, first.ToArray()); // num 1
        Assert.True(packet.TryGetAttachment(args[2], out var second));
        Assert.Equal(new byte[] { 1, 2, 3 }, second.ToArray());
        Assert.False(packet.TryGetAttachment(args[0], out var none));
        Assert.True(none.IsEmpty);

        // The decoder is ready for the next packet.
        Assert.Equal(SocketDecodeResult.Complete, Decode(decoder, "2[\"next\"]", out packet));
        Assert.Equal("next", packet!.EventName);
    }

    [Fact]
    public void Binary_ack_with_namespace_and_id()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments,
            Decode(decoder, "62-/custom,789[{\"_placeholder\":true,\"num\":0},{\"x\":{\"_placeholder\":true,\"num\":1}}]", out _));
        decoder.AddAttachment(new byte[] { 9 }, out _);
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(ReadOnlyMemory<byte>.Empty, out var packet));
        Assert.Equal(SocketPacketType.BinaryAck, packet!.Type);
        Assert.Equal("/custom", packet.Namespace);
        Assert.Equal(789, packet.AckId);
        Assert.Null(packet.EventName);
        Assert.True(packet.TryGetAttachment(packet.Data!.Value[1].GetProperty("x"), out var empty));
        Assert.Equal(0, empty.Length);
    }

    [Fact]
    public void Attachments_are_copied_so_pooled_buffers_can_be_reused()
    {
        var decoder = new SocketPacketDecoder();
        Decode(decoder, "51-[\"a\",{\"_placeholder\":true,\"num\":0}]", out _);
        var pooled = ArrayPool<byte>.Shared.Rent(3);
        pooled[0] = 7;
        pooled[1] = 8;
        pooled[2] = 9;
        decoder.AddAttachment(pooled.AsMemory(0, 3), out var packet);
        pooled[0] = 0;
        ArrayPool<byte>.Shared.Return(pooled);
        Assert.Equal(new byte[] { 7, 8, 9 }, packet!.Attachments[0].ToArray());
    }

    [Fact]
    public void Input_text_is_not_retained()
    {
        var bytes = Encoding.UTF8.GetBytes("2/nsp,1[\"abc\",{\"k\":\"v\"}]");
        var decoder = new SocketPacketDecoder();
        decoder.Decode(bytes, out var packet);
        Array.Fill(bytes, (byte)'x');
        Assert.Equal("/nsp", packet!.Namespace);
        Assert.Equal("[\"abc\",{\"k\":\"v\"}]", Json(packet.Data));
    }

    [Fact]
    public void Unused_attachments_are_accepted_like_upstream()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments, Decode(decoder, "52-[\"a\"]", out _));
        decoder.AddAttachment(new byte[] { 1 }, out _);
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 2 }, out var packet));
        Assert.Equal(2, packet!.Attachments.Count);
    }

    [Fact]
    public void Binary_header_without_payload_still_waits_for_its_attachments()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments, Decode(decoder, "51-", out _));
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 1 }, out var packet));
        Assert.Null(packet!.Data);
        Assert.Null(packet.EventName);
    }

    // ---- advisories (anchors.md §3.2) ----

    [Theory]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":\"splice\"}]")] // CVE-2022-2421
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":1}]")] // CVE-2022-2421, out of range
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":-1}]")]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":0.5}]")] // upstream yields undefined; we reject
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":1e400}]")]
    [InlineData("51-[\"hello\",{\"_placeholder\":true}]")]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":null}]")]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":[0]}]")]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":0,\"num\":\"x\"}]")] // last key wins, as in JSON.parse
    [InlineData("51-[\"hello\",{\"a\":[{\"b\":{\"_placeholder\":true,\"num\":3}}]}]")] // nested
    [InlineData("61-[{\"_placeholder\":true,\"num\":\"toString\"}]")]
    public void Illegal_placeholders_are_rejected(string header)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, header, out var packet));
        Assert.Null(packet);
        Assert.Equal(SocketDecodeError.IllegalAttachmentIndex, decoder.LastErrorCode);
        Assert.Equal("illegal attachments", decoder.LastError);
        Assert.False(decoder.IsReconstructing);

        // The binary frame that follows is then "not reconstructing" (the server closes before that anyway).
        Assert.Equal(SocketDecodeResult.Invalid, decoder.AddAttachment(new byte[] { 1 }, out _));
        Assert.Equal(SocketDecodeError.BinaryWhenNotReconstructing, decoder.LastErrorCode);
    }

    [Theory]
    [InlineData("51-[\"hello\",{\"_placeholder\":false,\"num\":\"splice\"}]", false)]
    [InlineData("51-[\"hello\",{\"_placeholder\":\"true\",\"num\":9}]", false)]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":7,\"_placeholder\":1}]", false)] // last key wins
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":-0}]", true)]
    [InlineData("51-[\"hello\",{\"_placeholder\":true,\"num\":0.0e5}]", true)]
    [InlineData("51-[\"hello\",{\"\\u005fplaceholder\":true,\"n\\u0075m\":0}]", true)] // escaped key names
    [InlineData("51-[\"hello\",{\"num\":0,\"_placeholder\":true,\"extra\":1}]", true)]
    public void Objects_that_are_not_placeholders_or_are_valid_ones_pass(string header, bool isPlaceholder)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments, Decode(decoder, header, out _));
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 1 }, out var packet));
        Assert.Equal(isPlaceholder, packet!.TryGetAttachment(packet.Data!.Value[1], out var bytes));
        Assert.Equal(isPlaceholder ? 1 : 0, bytes.Length);
    }

    [Fact]
    public void Too_many_attachments_CVE_2026_33151()
    {
        var decoder = new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxAttachments = 2 });
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder,
            "53-[\"hello\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":2}]", out _));
        Assert.Equal(SocketDecodeError.TooManyAttachments, decoder.LastErrorCode);
        Assert.Equal("too many attachments", decoder.LastError);

        Assert.Equal(SocketDecodeResult.AwaitingAttachments, Decode(decoder, "52-[\"hello\"]", out _));
    }

    [Theory]
    [InlineData("510-[\"a\"]", SocketDecodeResult.AwaitingAttachments)]
    [InlineData("511-[\"a\"]", SocketDecodeResult.Invalid)]
    [InlineData("51e300-[\"a\"]", SocketDecodeResult.Invalid)] // an integer, just too many
    [InlineData("599999999999999999999999-[\"a\"]", SocketDecodeResult.Invalid)]
    public void Default_limit_is_ten(string text, SocketDecodeResult expected)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(expected, Decode(decoder, text, out _));
        if (expected == SocketDecodeResult.Invalid)
        {
            Assert.Equal(SocketDecodeError.TooManyAttachments, decoder.LastErrorCode);
        }
    }

    [Fact]
    public void Attachment_count_without_dash_is_illegal_not_a_hang()
    {
        // 2015 infinite loop (commit e77fc4c): a count with no '-' terminator, here a long one.
        var decoder = new SocketPacketDecoder();
        var text = "5" + new string('1', 100_000) + "[\"a\"]";
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out _));
        Assert.Equal(SocketDecodeError.IllegalAttachments, decoder.LastErrorCode);
        Assert.Equal("Illegal attachments", decoder.LastError);
    }

    [Theory]
    [InlineData("2[{\"toString\":\"foo\"}]")] // CVE-2023-32695
    [InlineData("2[true,\"foo\"]")]
    [InlineData("2[null,\"bar\"]")]
    [InlineData("2[[\"a\"]]")]
    [InlineData("2[\"connect\"]")]
    [InlineData("2[\"disconnect\",\"123\"]")]
    [InlineData("0[]")]
    [InlineData("5" + "1-[{\"toString\":\"foo\"}]")]
    [InlineData("51-[\"newListener\",{\"_placeholder\":true,\"num\":0}]")]
    public void Crafted_event_names_and_connect_payloads_are_rejected(string text)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out _));
        Assert.Equal(SocketDecodeError.InvalidPayload, decoder.LastErrorCode);
    }

    [Fact]
    public void Event_named_error_is_valid_at_parser_level_CVE_2024_38355()
    {
        // Upstream's parser accepts it; the fix of CVE-2024-38355 is in the server (a noop "error" listener).
        Assert.Equal("error", DecodeComplete("2[\"error\"]").EventName);
    }

    // ---- state machine ----

    [Fact]
    public void Plaintext_while_reconstructing_is_an_error_and_resets()
    {
        var decoder = new SocketPacketDecoder();
        Decode(decoder, "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]", out _);
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, "2[\"hello\"]", out var packet));
        Assert.Null(packet);
        Assert.Equal(SocketDecodeError.PlaintextWhileReconstructing, decoder.LastErrorCode);
        Assert.Equal("got plaintext data when reconstructing a packet", decoder.LastError);
        Assert.False(decoder.IsReconstructing);

        // Parley resets after an error (upstream keeps the half-built packet); the connection is closed anyway.
        Assert.Equal(SocketDecodeResult.Complete, Decode(decoder, "2[\"hello\"]", out _));
        Assert.Null(decoder.LastError);
        Assert.Equal(SocketDecodeError.None, decoder.LastErrorCode);
    }

    [Fact]
    public void Binary_when_not_reconstructing_is_an_error()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, decoder.AddAttachment(Encoding.UTF8.GetBytes("world"), out var packet));
        Assert.Null(packet);
        Assert.Equal("got binary data when not reconstructing a packet", decoder.LastError);

        Decode(decoder, "51-[\"a\",{\"_placeholder\":true,\"num\":0}]", out _);
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 1 }, out _));
        Assert.Equal(SocketDecodeResult.Invalid, decoder.AddAttachment(new byte[] { 2 }, out _));
    }

    [Fact]
    public void Reset_resumes_decoding_like_destroy()
    {
        var decoder = new SocketPacketDecoder();
        Decode(decoder, "51-[\"hello\"]", out _);
        decoder.Reset();
        Assert.False(decoder.IsReconstructing);
        Assert.Equal(SocketDecodeResult.Complete, Decode(decoder, "2[\"hello\"]", out var packet));
        Assert.Equal("[\"hello\"]", Json(packet!.Data));
    }

    [Fact]
    public void Partial_packets_are_invalid_not_pending()
    {
        // Engine.IO delivers whole messages, so a cut packet is malformed, never "need more data".
        var full = "2/custom,12[\"message\",{\"a\":[1,2]}]";
        var decoder = new SocketPacketDecoder();
        for (var i = 0; i <= full.Length; i++)
        {
            var result = Decode(decoder, full[..i], out var packet);
            Assert.NotEqual(SocketDecodeResult.AwaitingAttachments, result);
            Assert.Equal(result == SocketDecodeResult.Complete, packet is not null);
        }
    }

    // ---- ack ids and namespaces ----

    [Theory]
    [InlineData("20[\"a\"]", 0L)]
    [InlineData("29007199254740991[\"a\"]", 9007199254740991L)]
    [InlineData("29223372036854775807[\"a\"]", long.MaxValue)] // upstream rounds to 9223372036854776000
    [InlineData("3/custom,9223372036854775807[]", long.MaxValue)]
    [InlineData("2 [\"a\"]", 0L)] // upstream quirk: whitespace counts as ack id digits, Number(" ") is 0
    [InlineData("2\u00a07\u3000[\"a\"]", 7L)]
    [InlineData("200042", 42L)]
    public void Ack_ids(string text, long expected) => Assert.Equal(expected, DecodeComplete(text).AckId);

    [Theory]
    [InlineData("29223372036854775808[\"a\"]")]
    [InlineData("2123456789012345678901234567890[\"a\"]")]
    [InlineData("21 2[\"a\"]")] // upstream: NaN
    public void Ack_ids_beyond_long_or_NaN_are_rejected(string text)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out _));
        Assert.Equal(SocketDecodeError.InvalidAckId, decoder.LastErrorCode);
        Assert.Equal("invalid ack id", decoder.LastError);
    }

    [Theory]
    [InlineData("0/custom", "/custom", null, null)]
    [InlineData("0/custom,", "/custom", null, null)]
    [InlineData("0/custom,{}", "/custom", null, "{}")]
    [InlineData("2/custom,5[\"a\"]", "/custom", 5L, "[\"a\"]")]
    [InlineData("2/custom,5", "/custom", 5L, null)]
    [InlineData("3/a/b?x=1&y=\u00e9,0[]", "/a/b?x=1&y=\u00e9", 0L, "[]")]
    [InlineData("2/[\"a\"]", "/[\"a\"]", null, null)] // the namespace runs to the first ',' or the end
    [InlineData("2/,[\"a\"]", "/", null, "[\"a\"]")]
    public void Namespaces(string text, string nsp, long? ackId, string? data)
    {
        var packet = DecodeComplete(text);
        Assert.Equal(nsp, packet.Namespace);
        Assert.Equal(ackId, packet.AckId);
        Assert.Equal(data, packet.Data is null ? null : Json(packet.Data));
    }

    [Fact]
    public void Namespace_string_is_reused_across_packets()
    {
        var decoder = new SocketPacketDecoder();
        Decode(decoder, "2/custom,[\"a\"]", out var first);
        Decode(decoder, "2/custom,[\"b\"]", out var second);
        Assert.Same(first!.Namespace, second!.Namespace);
    }

    // ---- payload forms ----

    [Theory]
    [InlineData("4\"Unauthorized\"", JsonValueKind.String)]
    [InlineData("4{\"message\":\"Not authorized\",\"data\":{\"code\":1}}", JsonValueKind.Object)]
    [InlineData("4/custom,{\"message\":\"Invalid namespace\"}", JsonValueKind.Object)]
    public void Connect_error_forms(string text, JsonValueKind kind)
    {
        var packet = DecodeComplete(text);
        Assert.Equal(SocketPacketType.ConnectError, packet.Type);
        Assert.Equal(kind, packet.Data!.Value.ValueKind);
    }

    [Theory]
    [InlineData("4[]")]
    [InlineData("41.5")]
    [InlineData("4true")]
    [InlineData("4null")]
    public void Connect_error_other_forms_are_rejected(string text)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out _));
    }

    [Theory]
    [InlineData("2[1,\"a\"]", "1")]
    [InlineData("2[-1.5e3]", "-1.5e3")]
    [InlineData("2[\"caf\\u00e9\"]", "caf\u00e9")]
    [InlineData("2", null)]
    [InlineData("3[\"a\"]", null)]
    public void Event_names(string text, string? name) => Assert.Equal(name, DecodeComplete(text).EventName);

    [Fact]
    public void Json_depth_is_limited()
    {
        static string Nested(int depth) => "2[\"a\"," + new string('[', depth - 1) + new string(']', depth - 1) + "]";
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Complete, Decode(decoder, Nested(32), out _));
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, Nested(33), out _));
        Assert.Equal(SocketDecodeError.InvalidPayload, decoder.LastErrorCode);

        var shallow = new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxJsonDepth = 2 });
        Assert.Equal(SocketDecodeResult.Complete, Decode(shallow, "2[\"a\",{}]", out _));
        Assert.Equal(SocketDecodeResult.Invalid, Decode(shallow, "2[\"a\",{\"b\":[]}]", out _));

        // Deep nesting well past any stack is rejected cheaply.
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, Nested(1_000_000), out _));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxAttachments = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxJsonDepth = 0 }));
        var none = new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxAttachments = 0 });
        Assert.Equal(SocketDecodeResult.Invalid, Decode(none, "51-[\"a\"]", out _));
        Assert.Equal(SocketDecodeError.TooManyAttachments, none.LastErrorCode);
    }

    // ---- text encoding ----

    [Fact]
    public void Invalid_utf8_is_decoded_leniently()
    {
        var decoder = new SocketPacketDecoder();
        byte[] text = [(byte)'2', (byte)'[', (byte)'"', 0xC3, (byte)'"', (byte)']'];
        Assert.Equal(SocketDecodeResult.Complete, decoder.Decode(text, out var packet));
        Assert.Equal("\ufffd", packet!.EventName);

        byte[] nsp = [(byte)'0', (byte)'/', 0xFF, 0xFE];
        Assert.Equal(SocketDecodeResult.Complete, decoder.Decode(nsp, out packet));
        Assert.Equal("/\ufffd\ufffd", packet!.Namespace);

        // An overlong/invalid sequence as the type character is just not a digit.
        Assert.Equal(SocketDecodeResult.Invalid, decoder.Decode([0xC0, 0xB2], out _));
        Assert.Equal("unknown packet type NaN", decoder.LastError);
    }

    [Fact]
    public void Lone_surrogates_in_event_names_become_replacement_characters()
    {
        // A Fact, not InlineData: xunit would replace lone surrogates in serialized case arguments.
        Assert.Equal("\ufffd", DecodeComplete("2[\"\\ud800\"]").EventName);
        Assert.Equal("\ufffdxconnect", DecodeComplete("2[\"\\udc00x\\u0063onnect\"]").EventName);
        Assert.Equal("connect\ufffd", DecodeComplete("2[\"\\u0063onnect\\ud800\"]").EventName);
        Assert.Equal("\ud83d\ude00", DecodeComplete("2[\"\\ud83d\\ude00\"]").EventName);
        Assert.Equal("\ufffd\ud83d\ude00\ufffd", DecodeComplete("2[\"\\ud83d\\ud83d\\ude00\\ude00\"]").EventName);
        Assert.Equal("\\ud800", DecodeComplete("2[\"\\\\ud800\"]").EventName);
    }

    [Fact]
    public void Every_string_of_a_packet_reads_without_throwing_after_lone_surrogates()
    {
        var packet = DecodeComplete("2[\"m\",{\"room\":\"\\udc00\",\"text\":\"a\\ud800\",\"\\ud800k\":[\"\\udbff\\u0041\"]}]");
        var payload = packet.Data!.Value[1];
        Assert.Equal("\ufffd", payload.GetProperty("room").GetString());
        Assert.Equal("a\ufffd", payload.GetProperty("text").GetString());
        Assert.Equal("\ufffdA", payload.GetProperty("\ufffdk")[0].GetString());
        Assert.Equal("\ufffd", DecodeComplete("0{\"token\":\"\\ud800\"}").Data!.Value.GetProperty("token").GetString());
    }

    [Fact]
    public void Lone_surrogates_in_session_json_become_replacement_characters()
    {
        Assert.Equal("{\"a\":\"\\ufffd\\ufffd\"}", SocketJson.ReplaceLoneSurrogates("{\"a\":\"\\udc00\\ud800\"}"));
        Assert.Equal("\"\ufffdx\ud83d\ude00\"", SocketJson.ReplaceLoneSurrogates("\"\ud800x\ud83d\ude00\""));
        var same = "{\"a\":\"\\ud83d\\ude00\"}";
        Assert.Same(same, SocketJson.ReplaceLoneSurrogates(same));
        Assert.Null(SocketJson.ReplaceLoneSurrogates("[\"\\ud83d\\ude00\",\"\\\\ud800\"]"u8));
    }

    [Theory]
    [InlineData("2[\"\\u0063onnect\"]")]
    [InlineData("2[\"\\u0063\\u006fnnect_error\"]")]
    [InlineData("2[\"newListene\\u0072\"]")]
    public void Escaped_reserved_names_are_still_reserved(string text)
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Invalid, Decode(decoder, text, out _));
    }

    [Fact]
    public void Lone_surrogates_in_keys_do_not_throw()
    {
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments,
            Decode(decoder, "51-[\"a\",{\"\\ud800\":{\"_placeholder\":true,\"num\":0}},{\"\\udfff\":1}]", out _));
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 5 }, out var packet));
        Assert.False(packet!.TryGetAttachment(packet.Data!.Value[2], out _));
        var buffer = new ArrayBufferWriter<byte>();
        SocketJson.WriteValue(buffer, packet.Data!.Value);
        Assert.Equal("[\"a\",{\"\ufffd\":{\"_placeholder\":true,\"num\":0}},{\"\ufffd\":1}]", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Lone_surrogate_escapes_are_re_encoded_as_replacement_characters()
    {
        var packet = DecodeComplete("2[\"\\ud800x\",\"\\udfff\"]");
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.Write(buffer, packet.Type, packet.Namespace, packet.AckId, packet.Data, 0);
        Assert.Equal("2[\"\ufffdx\",\"\ufffd\"]", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Non_canonical_numbers_keep_their_text()
    {
        // Divergence, by design: JSON.stringify(JSON.parse(x)) would print [100,1,0,null].
        var packet = DecodeComplete("2[\"x\",1e2,1.0,-0,1E400]");
        Assert.Equal("[\"x\",1e2,1.0,-0,1E400]", Json(packet.Data));
    }
}
