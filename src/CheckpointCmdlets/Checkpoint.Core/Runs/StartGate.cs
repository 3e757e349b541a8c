using System;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Checkpoint.Runs;

/// <summary>
/// Whether another sample may start: not once the run's cost reaches -MaxCost, nor once whatever takes the
/// results wants no more. The dispatcher asks before it takes each sample; a worker asks again before it
/// starts a sample it was handed, since samples in flight may spend the budget meanwhile.
/// </summary>
internal sealed class StartGate
{
    private readonly decimal? _budget;
    private readonly Func<decimal> _runCost;
    private readonly IRunObserver _observer;

    // Set once no new sample may start: a sample already handed to a worker but not started is then left pending.
    private volatile bool _closed;

    /// <param name="budget">-MaxCost, or null for no budget.</param>
    /// <param name="runCost">The cost of the whole run so far; safe while other threads append.</param>
    /// <param name="observer">Hears why starts stopped; called on the dispatching thread only.</param>
    public StartGate(decimal? budget, Func<decimal> runCost, IRunObserver observer)
    {
        _budget = budget;
        _runCost = runCost;
        _observer = observer;
    }

    /// <summary>True once the run stopped starting samples because its cost reached the budget.</summary>
    public bool BudgetReached { get; private set; }

    /// <summary>True once the caller wanted no more results: the run ends Interrupted.</summary>
    public bool OutputClosed { get; private set; }

    /// <summary>For the dispatcher: true when no new sample may start, telling the observer why the first time.</summary>
    [MethodImpl(JitOptions.Optimized)]
    public bool IsClosed() => CheckBudget() || CheckOutputClosed();

    /// <summary>-MaxCost: once the run's total cost reaches the budget, no new sample starts.</summary>
    public bool CheckBudget()
    {
        if (BudgetReached)
        {
            return true;
        }

        if (_budget is not decimal budget || _runCost() < budget)
        {
            return false;
        }

        BudgetReached = true;
        _closed = true;
        _observer.Warning(string.Format(
            CultureInfo.InvariantCulture,
            "The run's cost reached the budget: {0:0.######} of -MaxCost {1:0.######}. No new sample starts; every result is kept. Resume it with a higher -MaxCost to go on.",
            _runCost(),
            budget));
        return true;
    }

    /// <summary>
    /// For a worker about to start a sample it was handed: false when starts have stopped or the budget is
    /// spent (the dispatcher would see it only once the workers had taken the next samples). Any thread.
    /// </summary>
    public bool MayStart()
    {
        if (_closed || (_budget is decimal budget && _runCost() >= budget))
        {
            _closed = true;
            return false;
        }

        return true;
    }

    // Whatever takes the results wants no more: the run stops starting samples and ends Interrupted.
    private bool CheckOutputClosed()
    {
        if (!_observer.OutputClosed)
        {
            return false;
        }

        _closed = true;
        if (!OutputClosed)
        {
            OutputClosed = true;
            _observer.Verbose("The pipeline wants no more results: no new sample starts, and the run ends Interrupted.");
        }

        return true;
    }
}
