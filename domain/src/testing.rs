//! A small given / when / then helper for aggregates, for every procedure's tests.
//!
//! ```ignore
//! given::<MyAggregate>([past_event])
//!     .when(command)
//!     .then([expected_event]);
//! ```
//! Events are applied with the aggregate's own `apply_event`, so a test also exercises the way
//! state is rebuilt from history.

use std::fmt::Debug;

use esrs::Aggregate;

/// The past of an aggregate under test.
#[derive(Debug)]
pub struct Given<A: Aggregate> {
    state: A::State,
}

/// Starts a test from these past events (empty for a new stream).
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let state = events
        .into_iter()
        .fold(A::State::default(), |state, event| {
            A::apply_event(state, event)
        });
    Given { state }
}

impl<A: Aggregate> Given<A> {
    /// Handles one command against the state built from the past events.
    pub fn when(self, command: A::Command) -> Then<A> {
        let outcome = A::handle_command(&self.state, command);
        Then {
            state: self.state,
            outcome,
        }
    }

    /// The state built from the past events.
    pub fn state(&self) -> &A::State {
        &self.state
    }
}

/// The outcome of a command, to be asserted on.
#[derive(Debug)]
pub struct Then<A: Aggregate> {
    state: A::State,
    outcome: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Then<A>
where
    A::Event: Debug + PartialEq + Clone,
    A::Error: Debug,
{
    /// Asserts that the command was accepted and emitted exactly these events; returns the state
    /// after applying them, for further checks.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A::State {
        let expected: Vec<_> = expected.into_iter().collect();
        match self.outcome {
            Ok(events) => {
                assert_eq!(
                    events, expected,
                    "the command emitted other events than expected"
                );
                events.into_iter().fold(self.state, A::apply_event)
            }
            Err(error) => {
                panic!("expected events {expected:?}, but the command was refused: {error:?}")
            }
        }
    }

    /// Asserts that the command was refused with an error for which `check` holds.
    #[track_caller]
    pub fn then_refused(self, check: impl FnOnce(&A::Error) -> bool) {
        match self.outcome {
            Ok(events) => panic!("expected a refusal, but the command emitted {events:?}"),
            Err(error) => assert!(
                check(&error),
                "the command was refused, but not as expected: {error:?}"
            ),
        }
    }

    /// The raw outcome, for assertions the two helpers above do not cover.
    pub fn outcome(self) -> Result<Vec<A::Event>, A::Error> {
        self.outcome
    }
}

/// The command a fired timer of procedure `P` sends, on a file in `state`, at `now` (local day `today`), with the
/// bundled legal calendar of Madrid (28079) as the scheduler would resolve it.
pub fn fire<P>(
    kind: &str,
    data: &serde_json::Value,
    state: &P::State,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
) -> Option<P::Command>
where
    P: crate::Procedure,
    P::Event: crate::procedure::DomainEvent,
{
    let calendar = crate::calendar::HolidayCalendar::bundled();
    P::timer_command(
        kind,
        data,
        state,
        &crate::TimerContext {
            now,
            today,
            seat: "28079",
            calendar: &calendar,
        },
    )
}
