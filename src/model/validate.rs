//! Checks of a [`DomainDef`]. (Being written.)

use super::{DomainDef, ModelError};

/// Validates a definition.
pub(crate) fn validate(_def: &DomainDef) -> Result<(), ModelError> {
    Ok(())
}
