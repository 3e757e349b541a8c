using System.Management.Automation;

namespace Checkpoint.Commands.Internal;

/// <summary>Tells whether -WhatIf is in effect for a cmdlet, from the parameter or $WhatIfPreference.</summary>
internal static class WhatIf
{
    public static bool IsActive(PSCmdlet cmdlet) =>
        cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound)
            ? LanguagePrimitives.IsTrue(bound is SwitchParameter s ? s.IsPresent : bound)
            : LanguagePrimitives.IsTrue(cmdlet.GetVariableValue("WhatIfPreference"));
}
