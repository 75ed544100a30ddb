using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using Tally.State;

namespace Tally.Tests.Architecture;

/// <summary>
/// An assembly's internals are visible to its tests only: another production assembly uses what is public, so that
/// <c>public</c> says what the assembly offers.
/// </summary>
public sealed class InternalsVisibilityTests
{
    [Theory]
    [InlineData("Tally.Pipeline")]
    [InlineData("Tally.Core")]
    [InlineData("tally")]
    [InlineData("Tally.Aws.Lambda")]
    [InlineData("Tally.Aws.Cdk")]
    public void InternalsAreVisible_OnlyToTestAssemblies(string assembly)
    {
        var friends = FriendsOf(assembly);
        Assert.All(friends, friend => Assert.EndsWith(".Tests", friend, StringComparison.Ordinal));
    }

    [Fact]
    public void TheReader_SeesTheFriendsThatAreThere()
    {
        Assert.Contains("Tally.Tests", FriendsOf("Tally.Pipeline"));
        Assert.Contains("Tally.Core.Tests", FriendsOf("Tally.Core"));
        Assert.Contains("Tally.Dashboard.Tests", FriendsOf("tally"));
    }

    /// <summary>
    /// The assembly names of an assembly's <see cref="InternalsVisibleToAttribute"/>s: with reflection for the assemblies
    /// this project references, from the metadata of the file copied next to the tests for the others (the Lambda compiles
    /// engine and storage sources of Tally.Pipeline in, so it cannot be referenced beside it; the CDK app is not loaded).
    /// </summary>
    private static IReadOnlyList<string> FriendsOf(string assembly)
    {
        var loaded = new[] { typeof(StateDatabase).Assembly, typeof(HourWindow).Assembly }
            .FirstOrDefault(a => a.GetName().Name == assembly);
        var names = loaded is not null
            ? loaded.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName)
            : FriendsInFile(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        return [.. names.Select(n => n.Split(',')[0].Trim())];
    }

    private static List<string> FriendsInFile(string path)
    {
        Assert.True(File.Exists(path), $"{path} is not next to the tests (see the project references in Tally.Tests.csproj).");
        using var pe = new PEReader(File.OpenRead(path));
        var reader = pe.GetMetadataReader();
        var friends = new List<string>();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference) continue;
            var parent = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
            if (parent.Kind != HandleKind.TypeReference) continue;
            var type = reader.GetTypeReference((TypeReferenceHandle)parent);
            if (reader.GetString(type.Name) != nameof(InternalsVisibleToAttribute)) continue;
            var value = reader.GetBlobReader(attribute.Value);
            Assert.Equal(1, value.ReadUInt16()); // the custom attribute blob's prolog
            friends.Add(value.ReadSerializedString() ?? "");
        }
        return friends;
    }
}
