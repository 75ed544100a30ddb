using Tally.State;

namespace Tally.Tests.Architecture;

/// <summary>The folders of <c>src/Tally</c> depend on each other one way only.</summary>
public sealed class FolderDependencyTests
{
    /// <summary>The order, from the bottom up ("" is the root namespace, <c>Tally</c>): a folder uses only folders before it.</summary>
    private static readonly string[] Order =
        ["", "Storage", "Engine", "Synthetic", "State", "Metastore", "Query", "Events", "Workflow", "Scheduling", "Configuration"];

    private static readonly System.Reflection.Assembly Pipeline = typeof(StateDatabase).Assembly;

    [Fact]
    public void NoFolder_UsesAFolderThatComesAfterIt()
    {
        var violations = FolderDependencies.Violations(Pipeline, "Tally", Order);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Theory]
    [InlineData("Workflow", "State")] // RunStore over StateDatabase
    [InlineData("Workflow", "Events")] // HourWorkflow stores events in the outbox
    [InlineData("Scheduling", "Workflow")] // the scheduler starts workflows
    [InlineData("Metastore", "Engine")] // the catalog records a RunReport
    [InlineData("Configuration", "Events")] // the settings bind the Events section
    public void TheReader_SeesTheUsesThatAreThere(string from, string to)
    {
        Assert.Contains(FolderDependencies.Find(Pipeline, "Tally"), d => d.From == from && d.To == to);
    }
}
