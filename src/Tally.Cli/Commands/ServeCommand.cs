using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console.Cli;
using Tally.Cli.Dashboard;
using Tally.Configuration;
using Tally.Scheduling;

using Tally.Cli.DataFolder;

namespace Tally.Cli.Commands;

/// <summary><c>tally serve</c>: the scheduler as a long-running service, with the web dashboard on ASP.NET Core.</summary>
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

        [CommandOption("--port <PORT>")]
        [Description("The dashboard's TCP port; 0 lets the system choose (the URL is logged). Default: the Dashboard:Port setting, 5080.")]
        public int? Port { get; init; }

        [CommandOption("--bind <ADDRESS>")]
        [Description("The IP address the dashboard listens on. Default: the Dashboard:Bind setting, 127.0.0.1 (this machine only); any other address needs --token.")]
        public string? Bind { get; init; }

        [CommandOption("--token <TOKEN>")]
        [Description("The access token (16 characters or more) that requests from other machines must send as 'Authorization: Bearer <token>' (or log in once with ?token=). Default: the Dashboard:Token setting or TALLY_Dashboard__Token.")]
        public string? Token { get; init; }

        [CommandOption("--no-dashboard")]
        [Description("Run the scheduler only, without the web dashboard (or set Dashboard:Enabled to false).")]
        public bool NoDashboard { get; init; }

        /// <summary>--cron and --delay over the Schedule settings.</summary>
        /// <exception cref="TallyException">InvalidArgument when --delay is not a time span.</exception>
        protected override IEnumerable<KeyValuePair<string, string?>> Overrides()
        {
            if (Cron is not null) yield return new($"{ScheduleSettings.Section}:{nameof(ScheduleSettings.Cron)}", Cron);
            if (Delay is not null)
            {
                var delay = TimeSpan.TryParse(Delay, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw TallyException.InvalidArgument($"--delay '{Delay}' is not a time span; write it as hh:mm:ss, for example 00:05:00.");
                yield return new($"{ScheduleSettings.Section}:{nameof(ScheduleSettings.Delay)}", delay.ToString("c", CultureInfo.InvariantCulture));
            }
        }

        /// <summary>Where the dashboard listens, or null without one.</summary>
        /// <exception cref="TallyException">InvalidArgument for a bad address or port, or an address beyond loopback without a token.</exception>
        public DashboardOptions? DashboardOptions(TallySettings settings) =>
            NoDashboard || !settings.Dashboard.Enabled ? null : Dashboard.DashboardOptions.Resolve(settings.Dashboard, Port, Bind, Token);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var tally = settings.Tally;
        var dashboard = settings.DashboardOptions(tally);
        dashboard?.EnsurePortIsFree();
        var store = settings.OpenStore();
        using var state = await WorkflowState.OpenAsync(settings.StateDirectory, tally, cancellationToken);
        var workflow = await state.WorkflowAsync(store, cancellationToken);

        void AddScheduler(IServiceCollection services)
        {
            services.AddSystemd(); // Type=notify and journal-friendly logs under systemd; nothing otherwise.
            services.AddSingleton(s => new SchedulerService(workflow, state.Runs, store, tally.Schedule, TimeProvider.System,
                s.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Scheduler"),
                ct => state.DispatchAsync(TimeSpan.Zero, ct)));
            services.AddHostedService(s => s.GetRequiredService<SchedulerService>());
        }

        // SIGTERM and Ctrl+C stop the host: the scheduler cancels its runs, records them cancelled, and the command exits 0.
        if (dashboard is null)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "tally" });
            AddScheduler(builder.Services);
            using var host = builder.Build();
            await host.RunAsync(cancellationToken);
            return ExitCodes.Succeeded;
        }

        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "tally", ContentRootPath = AppContext.BaseDirectory });
        web.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        web.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(dashboard.Bind, dashboard.Port));
        AddScheduler(web.Services);
        DashboardJson.AddTo(web.Services);
        await using var app = web.Build();
        DashboardServer.Map(app, await DashboardContext.OpenAsync(settings.StateDirectory, tally, state, store, cancellationToken), dashboard);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            app.Logger.LogInformation("Dashboard: {Urls}{Access}", string.Join(", ", addresses),
                dashboard.LoopbackOnly ? " (this machine only)" : " (other machines need the access token)");
        });
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw TallyException.InvalidArgument($"The dashboard cannot listen on {dashboard.Bind}:{dashboard.Port}: {e.Message} Choose another --port, or --port 0.");
        }
        await app.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Succeeded;
    }
}
