using Tally.Engine;
using Xunit;

namespace Tally.Tests.Engine;

/// <summary>
/// The pair counter's merge and sorted read-out, checked against a dictionary and LINQ's sort of the same pairs: small
/// counters (one core) and large ones (every core), rows that hold most right values (placed by rank) and sparse ones
/// (sorted).
/// </summary>
public sealed class PairCounterTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        // pairs added, distinct left ids, distinct right ids
        { 3_000, 40, 30 },          // small, dense rows
        { 3_000, 50, 100_000 },     // small, sparse rows
        { 400_000, 2_000, 500 },    // large, dense rows: the seed's domain x group id
        { 400_000, 300, 1_000_000 }, // large, sparse rows
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SortedByRank_OrdersRowsByLeftRank_AndEachRowByRightRank_WithEveryCount(int adds, int leftIds, int rightIds)
    {
        var random = new Random(adds + leftIds + rightIds);
        var counter = new PairCounter();
        var expected = new Dictionary<(int, int), long>();
        for (var i = 0; i < adds; i++)
        {
            var (left, right) = (random.Next(leftIds), random.Next(rightIds));
            if (i % 2 == 0) counter.AddOneLater(left, right);
            else counter.Add(left, right, 1);
            expected[(left, right)] = expected.GetValueOrDefault((left, right)) + 1;
        }
        var leftRank = Permutation(random, leftIds);
        var rightRank = Permutation(random, rightIds);

        var (lefts, rights, counts) = counter.SortedByRank(leftRank, rightRank);

        var want = expected.OrderBy(p => leftRank[p.Key.Item1]).ThenBy(p => rightRank[p.Key.Item2]).ToList();
        Assert.Equal(want.Count, counter.Count);
        Assert.Equal(want.Select(p => p.Key.Item1), lefts);
        Assert.Equal(want.Select(p => p.Key.Item2), rights);
        Assert.Equal(want.Select(p => p.Value), counts);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AddAll_GivesTheCountsOfOneCounterThatSawEveryPair_ThroughTheIdMaps(int adds, int leftIds, int rightIds)
    {
        var random = new Random(adds ^ leftIds ^ rightIds);
        var into = new PairCounter();
        var other = new PairCounter();
        var expected = new Dictionary<(int, int), long>();
        // The other counter's ids are a shuffle of the first's, as another worker's interners give them.
        var leftMap = Permutation(random, leftIds);
        var rightMap = Permutation(random, rightIds);
        for (var i = 0; i < adds; i++)
        {
            var (left, right) = (random.Next(leftIds), random.Next(rightIds));
            if (i % 3 == 0)
            {
                into.Add(left, right, 2);
                expected[(left, right)] = expected.GetValueOrDefault((left, right)) + 2;
            }
            else
            {
                other.AddOneLater(left, right);
                var mapped = (leftMap[left], rightMap[right]);
                expected[mapped] = expected.GetValueOrDefault(mapped) + 1;
            }
        }

        into.AddAll(other, leftMap, rightMap);

        Assert.Equal(expected.Count, into.Count);
        var got = into.Entries().ToDictionary(e => (e.Left, e.Right), e => e.Count);
        Assert.Equal(expected.OrderBy(p => p.Key), got.OrderBy(p => p.Key));
    }

    private static int[] Permutation(Random random, int n)
    {
        var values = Enumerable.Range(0, n).ToArray();
        random.Shuffle(values);
        return values;
    }
}
