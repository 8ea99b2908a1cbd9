//! How errors are shown: one line holding the whole chain of causes, so that "error sending
//! request" always comes with its "connection refused", without repeating a cause that the
//! outer message already quotes.

/// `e` and every source under it, joined by ": ".
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn shows_every_cause_once() {
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(
            super::chain(&e),
            "error sending request: connection refused"
        );
    }
}
