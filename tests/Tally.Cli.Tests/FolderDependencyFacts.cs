using System.Reflection;
using Tally.Tests.Architecture;

namespace Tally.Cli.Tests;

/// <summary>The folders of <c>src/Tally.Cli</c> depend on each other one way only: the dashboard and the commands share DataFolder, never each other.</summary>
public sealed class FolderDependencyFacts
{
    /// <summary>The order, from the bottom up ("" is the root namespace, <c>Tally.Cli</c>; the top-level Program is above them all).</summary>
    private static readonly string[] Order = ["", "DataFolder", "Dashboard", "Commands"];

    private static readonly Assembly Cli = Assembly.Load(new AssemblyName("tally"));

    [Fact]
    public void NoFolder_UsesAFolderThatComesAfterIt()
    {
        var violations = FolderDependencies.Violations(Cli, "Tally.Cli", Order);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Theory]
    [InlineData("Commands", "Dashboard")] // tally serve hosts the dashboard
    [InlineData("Dashboard", "DataFolder")] // the dashboard reads the run history of the data folder
    [InlineData("Commands", "DataFolder")]
    public void TheReader_SeesTheUsesThatAreThere(string from, string to)
    {
        Assert.Contains(FolderDependencies.Find(Cli, "Tally.Cli"), d => d.From == from && d.To == to);
    }
}
