//! Reading domain XML into a [`DomainDef`]. (Being written.)

use super::{DomainDef, ModelError, ModelErrorKind};

/// Parses a domain document.
pub(crate) fn parse_domain(_xml: &str) -> Result<DomainDef, ModelError> {
    Err(ModelError::new(ModelErrorKind::Unsupported, "not yet"))
}
