using Tally.Workflow;

namespace Tally.Tests.Workflow;

/// <summary>The case of a <see cref="WorkflowResult"/> a test expects, failing the test when it is the other.</summary>
internal static class WorkflowResults
{
    public static WorkflowResult.Started Started(this WorkflowResult result) => Assert.IsType<WorkflowResult.Started>(result);

    public static WorkflowResult.Held Held(this WorkflowResult result) => Assert.IsType<WorkflowResult.Held>(result);
}
