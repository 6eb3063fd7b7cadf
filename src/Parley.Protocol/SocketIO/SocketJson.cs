using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// JSON output that matches socket.io-parser's <c>JSON.stringify</c>, byte for byte.
/// </summary>
/// <remarks>
/// <para>
/// The exact path is <see cref="WriteValue(IBufferWriter{byte}, JsonElement)"/> / <see cref="WriteString(IBufferWriter{byte}, ReadOnlySpan{char})"/>
/// (and their <see cref="Utf8JsonWriter"/> overloads, which go through <c>WriteRawValue</c>): strings escape only
/// <c>"</c>, <c>\</c>, U+0000–U+001F (<c>\b \t \n \f \r</c>, else <c>\u00xx</c> lowercase) and lone surrogates
/// (<c>\udxxx</c>); all other characters, including <c>é &lt; &gt; &amp; '</c>, emoji, U+2028/U+2029 and DEL, are raw.
/// Numbers keep their original text (<c>1</c> stays <c>1</c>, and <c>1.0</c> stays <c>1.0</c>, where JSON.stringify
/// would print <c>1</c>), key order and duplicate keys are kept.
/// </para>
/// <para>
/// <see cref="WriterOptions"/> is for payloads the server builds with <see cref="Utf8JsonWriter"/> methods. Its
/// encoder is <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>, the closest built-in (a custom
/// <see cref="JavaScriptEncoder"/> needs unsafe code, which Parley.Protocol does not enable). It matches
/// JSON.stringify for ASCII text without control characters, and for common non-ASCII letters; it differs in
/// that it escapes control characters other than <c>\b \t \n \f \r</c> with uppercase hex, and escapes
/// characters outside the BMP (emoji), some non-printing or unassigned characters, and U+2028/U+2029 as
/// <c>\uXXXX</c>. Use <see cref="WriteStringValue"/> for user text that must be exact.
/// </para>
/// </remarks>
public static class SocketJson
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>
    /// Compact writer options for Socket.IO payloads: relaxed escaping (see remarks of <see cref="SocketJson"/>),
    /// not indented, validation on.
    /// </summary>
    public static JsonWriterOptions WriterOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    /// <summary>Writes <paramref name="value"/> as JSON.stringify would (numbers keep their text).</summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">Any element, e.g. a decoded <see cref="SocketPacket.Data"/>.</param>
    public static void WriteValue(IBufferWriter<byte> output, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(output);
        JsonStringify.WriteElement(output, value);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as JSON.stringify would, as the next value of <paramref name="writer"/>
    /// (an array item, or after a property name).
    /// </summary>
    /// <param name="writer">Destination; any options (its encoder is not used).</param>
    /// <param name="value">Any element.</param>
    public static void WriteValue(Utf8JsonWriter writer, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var scratch = RentScratch();
        JsonStringify.WriteElement(scratch, value);
        writer.WriteRawValue(scratch.WrittenSpan, skipInputValidation: true);
        scratch.ResetWrittenCount();
    }

    /// <summary>Writes a quoted JSON string escaped exactly as JSON.stringify does.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="value">Text; lone surrogates are written as <c>\udxxx</c>.</param>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        JsonStringify.WriteString(output, value);
    }

    /// <summary>
    /// Writes a string value escaped exactly as JSON.stringify does, as the next value of
    /// <paramref name="writer"/>.
    /// </summary>
    /// <param name="writer">Destination.</param>
    /// <param name="value">Text; lone surrogates are written as <c>\udxxx</c>.</param>
    public static void WriteStringValue(Utf8JsonWriter writer, ReadOnlySpan<char> value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var scratch = RentScratch();
        JsonStringify.WriteString(scratch, value);
        writer.WriteRawValue(scratch.WrittenSpan, skipInputValidation: true);
        scratch.ResetWrittenCount();
    }

    /// <summary>
    /// Replaces ill-formed UTF-16 escapes in JSON text (<c>\ud800</c> alone, <c>\udc00</c> alone) with
    /// <c>\ufffd</c>, so that <see cref="JsonElement.GetString"/> on the parsed value cannot throw. The Socket.IO
    /// decoder applies it to every packet; use it for JSON from other sources that a client controls.
    /// </summary>
    /// <param name="utf8Json">JSON text as UTF-8.</param>
    /// <returns>A repaired copy, or null when the text needs no repair.</returns>
    public static byte[]? ReplaceLoneSurrogates(ReadOnlySpan<byte> utf8Json) => LoneSurrogates.Replace(utf8Json);

    /// <summary>
    /// Replaces lone surrogates in JSON text with U+FFFD, both escaped (<c>\ud800</c> becomes <c>\ufffd</c>) and
    /// as raw UTF-16 code units.
    /// </summary>
    /// <param name="json">JSON text.</param>
    /// <returns><paramref name="json"/> itself when it needs no repair, else a repaired copy.</returns>
    public static string ReplaceLoneSurrogates(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return LoneSurrogates.Replace(json);
    }

    private static ArrayBufferWriter<byte> RentScratch()
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(256);
        scratch.ResetWrittenCount();
        return scratch;
    }
}
