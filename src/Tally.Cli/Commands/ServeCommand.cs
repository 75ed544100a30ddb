using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console.Cli;
using Tally.Configuration;
using Tally.Scheduling;

namespace Tally.Cli.Commands;

/// <summary><c>tally serve</c>: the scheduler as a long-running service on the .NET generic host.</summary>
internal sealed class ServeCommand : AsyncCommand<ServeCommand.Settings>
{
    internal sealed class Settings : DataSettings
    {
        [CommandOption("--cron <CRON>")]
        [Description("The schedule in UTC: five cron fields, or six with seconds first. Each tick processes the hour before it. Default: the Schedule:Cron setting, \"0 * * * *\" (every hour).")]
        public string? Cron { get; init; }

        [CommandOption("--delay <TIMESPAN>")]
        [Description("How long after each tick its run starts, so late files can land, as hh:mm:ss. Default: the Schedule:Delay setting, 00:00:00.")]
        public string? Delay { get; init; }

        /// <summary>The settings with --cron and --delay applied over them.</summary>
        /// <exception cref="TallyException">InvalidArgument when --delay is not a time span; InvalidConfiguration when a value is out of range.</exception>
        public TallySettings EffectiveSettings()
        {
            var settings = LoadSettings();
            if (Cron is not null) settings.Schedule.Cron = Cron;
            if (Delay is not null)
            {
                settings.Schedule.Delay = TimeSpan.TryParse(Delay, CultureInfo.InvariantCulture, out var delay)
                    ? delay
                    : throw TallyException.InvalidArgument($"--delay '{Delay}' is not a time span; write it as hh:mm:ss, for example 00:05:00.");
            }
            settings.Validate();
            return settings;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var tally = settings.EffectiveSettings();
        var store = settings.OpenStore();
        using var state = await WorkflowState.OpenAsync(settings, tally, cancellationToken);
        var workflow = await state.WorkflowAsync(store, cancellationToken);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "tally" });
        builder.Services.AddSystemd(); // Type=notify and journal-friendly logs under systemd; nothing otherwise.
        builder.Services.AddHostedService(services => new SchedulerService(workflow, state.Runs, store, tally.Schedule, TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Scheduler"),
            ct => state.DispatchAsync(TimeSpan.Zero, ct)));
        using var host = builder.Build();
        // SIGTERM and Ctrl+C stop the host: the scheduler cancels its runs, records them cancelled, and the command exits 0.
        await host.RunAsync(cancellationToken);
        return ExitCodes.Succeeded;
    }
}
