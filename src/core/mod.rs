//! The pure core: the election model, the party registry, the arithmetic of one result and
//! of the nation, the constituency finder, the board that holds the night, and what is
//! derived from it (changes between feeds, the source's figures cross-checked, milestones,
//! the projection), and results declared in seats (councils, list seats by d'Hondt). Nothing here performs I/O or knows Discord.

pub mod allocation;
pub mod arithmetic;
pub mod board;
pub mod changes;
pub mod council;
pub mod crosscheck;
pub mod dhondt;
pub mod filter;
pub mod finder;
pub mod lists;
pub mod milestones;
pub mod model;
pub mod national;
pub mod parties;
pub mod projection;
pub mod validate;

pub use arithmetic::{Figures, compute};
pub use model::*;
pub use national::{Tally, tally};
pub use parties::{Colour, Party, PartyRegistry};
