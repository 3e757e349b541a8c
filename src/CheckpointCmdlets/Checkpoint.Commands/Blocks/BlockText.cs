using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace Checkpoint.Commands.Blocks;

/// <summary>
/// A -Process block prepared for running anywhere: <c>$using:name</c> references are rewritten to plain
/// variables whose values are taken once, from the caller's scope, when the run starts (as ForEach-Object
/// -Parallel does), and the block is checked for Get-Random, which is then seeded per sample.
/// </summary>
internal sealed class BlockText
{
    private static readonly ParamBlockAst s_contextParameters = Parser.ParseInput("param($CheckpointContext, $ErrorActionPreference)", out _, out _).ParamBlock;

    private readonly IScriptExtent _origin;

    private BlockText(IScriptExtent origin, string text, IReadOnlyList<PSVariable> usingVariables, bool usesGetRandom, bool rewritten, ScriptBlock? withContextParameters = null)
    {
        _origin = origin;
        Text = text;
        UsingVariables = usingVariables;
        UsesGetRandom = usesGetRandom;
        Rewritten = rewritten;
        WithContextParameters = withContextParameters;
    }

    /// <summary>The block's body, with $using: references rewritten.</summary>
    public string Text { get; }

    /// <summary>The values of the $using: references, as variables to define where the block runs.</summary>
    public IReadOnlyList<PSVariable> UsingVariables { get; }

    /// <summary>
    /// True when the block may call Get-Random, so that each attempt must seed it: see <see cref="MayCallGetRandom"/>.
    /// </summary>
    public bool UsesGetRandom { get; }

    /// <summary>True when $using: references were rewritten (the original block cannot run as it is).</summary>
    public bool Rewritten { get; }

    /// <summary>
    /// The original block with a parameter block <c>param($CheckpointContext, $ErrorActionPreference)</c> added,
    /// for the caller's runspace, or null when the block cannot take one (see <see cref="AddContextParameters"/>).
    /// </summary>
    /// <remarks>
    /// Values bound to parameters live in the new scope's slots, as the block's own locals do. Values given to
    /// <c>InvokeWithContext</c> as variables instead make PowerShell build the scope's variable table, a copy of
    /// every AllScope variable, which costs more than a sample whose block does little (docs/performance.md).
    /// </remarks>
    public ScriptBlock? WithContextParameters { get; }

    /// <summary>Prepares <paramref name="block"/>, reading $using: values from <paramref name="cmdlet"/>'s scope.</summary>
    public static BlockText From(ScriptBlock block, PSCmdlet cmdlet)
    {
        Ast ast = block.Ast;
        IScriptExtent origin = ast.Extent;
        string text = origin.Text;
        int baseOffset = origin.StartOffset;
        if (ast is ScriptBlockAst { Parent: ScriptBlockExpressionAst } || (text.StartsWith("{", StringComparison.Ordinal) && text.EndsWith("}", StringComparison.Ordinal)))
        {
            text = text.Substring(1, text.Length - 2);
            baseOffset++;
        }

        bool usesGetRandom = MayCallGetRandom(ast, cmdlet.SessionState.InvokeCommand);
        var usings = ast.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true).Cast<UsingExpressionAst>().ToList();
        if (usings.Count == 0)
        {
            return new BlockText(origin, text, Array.Empty<PSVariable>(), usesGetRandom, rewritten: false, AddContextParameters(block, cmdlet.SessionState));
        }

        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var variables = new List<PSVariable>();
        var builder = new StringBuilder(text);
        foreach (UsingExpressionAst use in usings.OrderByDescending(u => u.Extent.StartOffset))
        {
            VariableExpressionAst variable = UsingExpressionAst.ExtractUsingVariable(use);
            string userPath = variable.VariablePath.UserPath;
            if (!names.TryGetValue(userPath, out string? local))
            {
                local = "__checkpoint_using_" + names.Count.ToString(CultureInfo.InvariantCulture);
                names.Add(userPath, local);
                variables.Add(new PSVariable(local, ValueOf(cmdlet, variable)));
            }

            // Only the $using:name part is replaced; an index or member access around it stays.
            int start = variable.Extent.StartOffset - baseOffset;
            builder.Remove(start, variable.Extent.EndOffset - variable.Extent.StartOffset);
            builder.Insert(start, "$" + local);
        }

        return new BlockText(origin, builder.ToString(), variables, usesGetRandom, rewritten: true);
    }

    /// <summary>The block to run in the caller's runspace: the original, unless it had to be rewritten.</summary>
    public ScriptBlock ForCallerRunspace(ScriptBlock original) => Rewritten ? Compile() : original;

    /// <summary>
    /// A new script block of <see cref="Text"/>, parsed as if it stood where the original does: its errors
    /// name the caller's file and lines, as the original's would (columns move on a line whose $using: was
    /// rewritten).
    /// </summary>
    public ScriptBlock Compile()
    {
        // Text starts after the original's opening brace, when it had one.
        int column = _origin.StartColumnNumber + (_origin.Text.StartsWith("{", StringComparison.Ordinal) ? 1 : 0);
        string placed = new string('\n', Math.Max(0, _origin.StartLineNumber - 1)) + new string(' ', Math.Max(0, column - 1)) + Text;
        ScriptBlockAst ast = Parser.ParseInput(placed, _origin.File, out _, out ParseError[] errors);
        return errors.Length == 0 ? ast.GetScriptBlock() : ScriptBlock.Create(Text);
    }

    /// <summary>
    /// <paramref name="block"/> with the context parameters added, compiled from a copy of its syntax tree, so
    /// errors still name the caller's file and lines. Null unless the block is plain statements (no param,
    /// begin, process, end or dynamicparam block, no attributes or using statements), the session runs in
    /// FullLanguage, and the block belongs to the caller's module (or both to none): the copy is not bound to a
    /// session state, so it runs in the caller's, and the original must have run there too.
    /// </summary>
    private static ScriptBlock? AddContextParameters(ScriptBlock block, SessionState caller)
    {
        if (block.Ast is not ScriptBlockAst ast
            || ast.ParamBlock is not null
            || ast.EndBlock is not { Unnamed: true }
            || ast.UsingStatements.Count > 0
            || ast.Attributes.Count > 0
            || caller.LanguageMode != PSLanguageMode.FullLanguage
            || block.Module != caller.Module)
        {
            return null;
        }

        var copy = new ScriptBlockAst(ast.Extent, (ParamBlockAst)s_contextParameters.Copy(), beginBlock: null, processBlock: null, (NamedBlockAst)ast.EndBlock.Copy(), dynamicParamBlock: null);
        return copy.GetScriptBlock();
    }

    /// <summary>
    /// True when an attempt of the block may call Get-Random: the block names it, calls a command that is not
    /// a cmdlet (a function, a script, or a name this session cannot resolve, such as a function of an
    /// -ImportModule module), calls a command by a name it computes (<c>&amp; $f</c>), or invokes a script
    /// block's Invoke method. Seeding costs a command invocation per attempt, so a block of cmdlets and
    /// expressions alone is not seeded. A script block held in a variable and handed to a cmdlet
    /// (<c>ForEach-Object $f</c>) is not looked into.
    /// </summary>
    private static bool MayCallGetRandom(Ast ast, CommandInvocationIntrinsics commands)
    {
        foreach (Ast found in ast.FindAll(a => a is CommandAst or InvokeMemberExpressionAst, searchNestedScriptBlocks: true))
        {
            if (found is InvokeMemberExpressionAst invoke)
            {
                if (invoke.Member is not StringConstantExpressionAst member || member.Value.StartsWith("Invoke", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                continue;
            }

            string? name = ((CommandAst)found).GetCommandName();
            if (name is null || IsGetRandom(name))
            {
                return true;
            }

            CommandInfo? command;
            try
            {
                command = commands.GetCommand(name, CommandTypes.All);
            }
            catch (Exception e) when (e is RuntimeException or ArgumentException)
            {
                return true;
            }

            for (int hops = 0; command is AliasInfo alias && hops < 16; hops++)
            {
                command = alias.ResolvedCommand;
            }

            if (command is not CmdletInfo cmdlet || IsGetRandom(cmdlet.Name))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsGetRandom(string? name) =>
        name is not null && (name.Equals("Get-Random", StringComparison.OrdinalIgnoreCase)
            || name.Equals("random", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith("\\Get-Random", StringComparison.OrdinalIgnoreCase));

    private static object? ValueOf(PSCmdlet cmdlet, VariableExpressionAst variable)
    {
        VariablePath path = variable.VariablePath;
        if (path.IsDriveQualified && path.DriveName.Equals("env", StringComparison.OrdinalIgnoreCase))
        {
            return Environment.GetEnvironmentVariable(path.UserPath.Substring(path.DriveName.Length + 1));
        }

        // As in ForEach-Object -Parallel, a variable the session has not set is an error, not $null: a typo
        // (or a resume from a session that never set it) would otherwise run every paid sample without it.
        if (cmdlet.SessionState.PSVariable.Get(path.UserPath) is not PSVariable set)
        {
            throw new CheckpointException(
                ErrorIds.UsingVariableNotSet,
                $"The block uses $using:{path.UserPath}, but this session has no variable '{path.UserPath}'. Set it before the run starts (a resume reads $using: values from the session that resumes), or pass the value through -Config and read $CheckpointContext.Config.");
        }

        return set.Value;
    }
}
