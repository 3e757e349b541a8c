using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Checkpoint.Runs;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// The processors of a run of a -Process block: in the caller's runspace when the engine runs inline, else
/// one runspace per worker, each with the default commands plus the modules of -ImportModule.
/// </summary>
internal sealed class ScriptBlockProcessorFactory : ISampleProcessorFactory
{
    private readonly ScriptBlock _block;
    private readonly BlockText _text;
    private readonly RetryRules _rules;
    private readonly InitialSessionState _state;

    public ScriptBlockProcessorFactory(ScriptBlock block, BlockText text, RetryRules rules, string[] importModule)
    {
        _block = block;
        _text = text;
        _rules = rules;
        _state = InitialSessionState.CreateDefault2();
        _state.ImportPSModule(new[] { "Microsoft.PowerShell.Utility" });
        if (importModule.Length > 0)
        {
            _state.ImportPSModule(importModule);
        }
    }

    public ISampleProcessor? CreateInline() => new ScriptBlockProcessor(_block, _text, _rules);

    public ISampleProcessor CreateWorker() => new RunspaceProcessor(_state, _text, _rules);
}
