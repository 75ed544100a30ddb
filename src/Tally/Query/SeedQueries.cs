namespace Tally.Query;

/// <summary>The seed's Athena queries, verbatim: <c>tally query</c> must answer each of them as Athena does.</summary>
public static class SeedQueries
{
    internal const string HitsByCountry = "SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\";";
    internal const string HitsByDomainAndGroupId = "SELECT * FROM \"demo-aggregated-data\".\"hits_by_domain_and_groupid\";";
    internal const string HitsByUserAgent = "SELECT * FROM \"demo-aggregated-data\".\"hits_by_useragent\";";
    internal const string RawData = "SELECT * FROM \"demo-raw-data\".\"raw_data\" limit 10;";

    /// <summary>The four queries in the seed's order.</summary>
    public static IReadOnlyList<string> All { get; } = [HitsByCountry, HitsByDomainAndGroupId, HitsByUserAgent, RawData];
}
