using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Tally.Cli.Dashboard;

/// <summary>
/// The dashboard's JSON, read and written by code generated at build time (no reflection): the API's answers (built as
/// <see cref="JsonNode"/>s), its error body and the query request. ASP.NET Core's web defaults (camelCase names,
/// case-insensitive reading), as before.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(DashboardServer.QueryRequest))]
internal sealed partial class DashboardJson : JsonSerializerContext
{
    /// <summary>Lets request bodies (<c>POST /api/query</c>) be read with this context first.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.Configure<JsonOptions>(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, Default));
}

/// <summary>The dashboard's JSON answers.</summary>
internal static class DashboardResults
{
    /// <summary><paramref name="body"/> as the answer, with <paramref name="statusCode"/> (200 by default).</summary>
    public static IResult Json(JsonNode body, int? statusCode = null) => Results.Json(body, DashboardJson.Default.JsonNode, statusCode: statusCode);

    /// <summary><c>{"error": message}</c> with <paramref name="statusCode"/>.</summary>
    public static IResult Error(string message, int statusCode) => Results.Json(new ApiError(message), DashboardJson.Default.ApiError, statusCode: statusCode);

    /// <summary>Writes <c>{"error": message}</c> as the response's body.</summary>
    public static Task WriteErrorAsync(HttpResponse response, string message) => response.WriteAsJsonAsync(new ApiError(message), DashboardJson.Default.ApiError);
}
