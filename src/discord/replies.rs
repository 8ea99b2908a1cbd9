//! What each slash command answers, as plain functions of the results board (and the
//! store, for subscriptions). The command layer only carries these to Discord, so they are
//! tested directly.

use crate::core::arithmetic::{Outcome, compute};
use crate::core::board::{Board, Scope, Standing};
use crate::core::finder::{Lookup, Match, MatchKind};
use crate::core::model::{ConstituencyId, DeclarationStatus, Nation, PartyId};
use crate::format::allocated::standing_embed;
use crate::format::embed::{Embed, Field, escape_markdown, truncate};
use crate::format::national::{national_swing_sentence, seats_embed};
use crate::format::result::{
    Declared, candidate_table, headline, result_embed, summary_lines, table_fields,
};
use crate::format::{Style, pct1, signed_int, signed1, thousands};

/// Presentation settings every reply needs besides the board.
#[derive(Clone, Debug)]
pub struct Presentation {
    pub tz: chrono_tz::Tz,
    pub source: String,
    pub baseline_label: String,
}

impl Presentation {
    pub fn style<'a>(&'a self, board: &'a Board) -> Style<'a> {
        Style {
            parties: &board.parties,
            tz: self.tz,
            source: &self.source,
            baseline_label: &self.baseline_label,
        }
    }
}

/// A picture to attach.
#[derive(Clone, Debug, PartialEq)]
pub enum Picture {
    /// The result chart of one constituency.
    Result(ConstituencyId),
    /// The seats chart of a scope.
    Seats(Scope),
    Swing,
    /// The projection's seats chart.
    Projection,
    /// The councils chart of a scope.
    Councils(Scope),
}

/// A reply, before it is turned into Discord's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    /// Only the user who asked sees it.
    pub ephemeral: bool,
    /// The picture that goes with the first embed, if any.
    pub picture: Option<Picture>,
}

impl Reply {
    pub(super) fn embed(e: Embed) -> Reply {
        Reply {
            content: None,
            embeds: vec![e],
            ephemeral: false,
            picture: None,
        }
    }

    /// A short private answer (errors, refusals, lists of closest matches).
    pub fn private(text: impl Into<String>) -> Reply {
        Reply {
            content: Some(truncate(
                &text.into(),
                crate::format::embed::limits::CONTENT,
            )),
            embeds: Vec::new(),
            ephemeral: true,
            picture: None,
        }
    }
}

fn list_matches(ms: &[Match]) -> String {
    ms.iter()
        .take(10)
        .map(|m| format!("• {}", escape_markdown(&m.name)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one constituency `query` names, or the private reply saying why there is none
/// (several could be meant, or none matches: with the closest names).
pub fn find_one(board: &Board, query: &str) -> Result<(ConstituencyId, String), Reply> {
    match board.find(query) {
        Lookup::Found(m) => Ok((m.id, m.name)),
        Lookup::Ambiguous(ms) => Err(Reply::private(format!(
            "“{}” could be several constituencies. Did you mean:\n{}",
            escape_markdown(query),
            list_matches(&ms)
        ))),
        Lookup::NotFound(ms) if ms.is_empty() => Err(Reply::private(format!(
            "No constituency matches “{}”.",
            escape_markdown(query)
        ))),
        Lookup::NotFound(ms) => Err(Reply::private(format!(
            "No constituency matches “{}”. The closest are:\n{}",
            escape_markdown(query),
            list_matches(&ms)
        ))),
    }
}

/// `/result constituency:`.
pub fn result(board: &Board, p: &Presentation, query: &str) -> Reply {
    let style = p.style(board);
    let (id, name) = match find_one(board, query) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    match board.get(&id) {
        Some(e) => {
            let view = Declared {
                figures: &e.figures,
                declared_at: e.declaration.declared_at,
                revision: e.declaration.revision,
                status: e.declaration.status,
            };
            let mut reply = Reply::embed(result_embed(&view, &style));
            if e.declaration.status == DeclarationStatus::Declared {
                reply.picture = Some(Picture::Result(id.clone()));
            }
            reply
        }
        None => Reply::embed(not_declared(board, &style, &id, &name)),
    }
}

/// The embed for a seat that has not declared: say so and show the baseline.
fn not_declared(board: &Board, style: &Style, id: &ConstituencyId, name: &str) -> Embed {
    let mut fields = Vec::new();
    let withdrawn = board.is_withdrawn(id);
    let mut description = if withdrawn {
        format!(
            "The declaration of {} was withdrawn; its result will be announced again when it is re-declared.",
            escape_markdown(name)
        )
    } else {
        format!("{} has not declared yet.", escape_markdown(name))
    };
    let nominated = board.nominated(id);
    if let Some(n) = nominated.filter(|_| !withdrawn) {
        description = format!(
            "{}: awaiting declaration. {} candidate{} standing.",
            escape_markdown(name),
            n.candidates.len(),
            if n.candidates.len() == 1 { "" } else { "s" }
        );
    }
    // The configured baseline, else the previous election the source sent with the
    // nominations.
    let previous = board
        .baseline
        .get(id)
        .map(|r| (r, style.baseline_label.to_string()))
        .or_else(|| {
            nominated
                .and_then(|n| n.source.as_deref())
                .and_then(|s| s.previous.as_ref())
                .map(|p| (&p.result, p.label()))
        });
    if let Some((before, since)) = previous {
        let f = compute(before, None, &board.parties);
        let winner = f
            .winning_party()
            .map(|p| style.name(p).to_string())
            .unwrap_or_else(|| "no winner".into());
        description.push_str(&format!(
            "\n\nIn {since} it was won by {}.\n{}",
            escape_markdown(&winner),
            summary_lines(&f, style, true)
                .into_iter()
                .filter(|l| !l.starts_with("No swing"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        fields = table_fields(&format!("Result in {since}"), &candidate_table(&f, style));
    }
    if let Some(n) = nominated.filter(|_| !withdrawn) {
        let standing: Vec<String> = n
            .candidates
            .iter()
            .map(|c| format!("{} ({})", escape_markdown(&c.name), style.short(&c.party)))
            .collect();
        fields.insert(
            0,
            Field {
                name: "Standing".to_string(),
                value: truncate(&standing.join("\n"), 1024),
                inline: false,
            },
        );
    }
    Embed {
        title: if withdrawn {
            format!("{}: declaration withdrawn", escape_markdown(name))
        } else {
            format!("{}: not yet declared", escape_markdown(name))
        },
        description,
        colour: crate::core::parties::Colour::NEUTRAL,
        fields,
        footer: Some(format!("Source: {}", style.source)),
        timestamp: None,
        image: None,
    }
    .fit()
}

/// `/latest [count]`: the most recent declarations, newest first.
pub fn latest(board: &Board, p: &Presentation, count: usize) -> Reply {
    let style = p.style(board);
    let count = count.clamp(1, 25);
    let entries = board.latest(count);
    if entries.is_empty() {
        return Reply::embed(
            Embed {
                title: "Latest declarations".into(),
                description: "No seats have declared yet.".into(),
                colour: crate::core::parties::Colour::NEUTRAL,
                fields: vec![],
                footer: Some(format!("Source: {}", style.source)),
                timestamp: None,
                image: None,
            }
            .fit(),
        );
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let when = e
                .declaration
                .declared_at
                .map(|t| t.with_timezone(&style.tz).format("%H:%M").to_string())
                .unwrap_or_else(|| "--:--".into());
            let state = match e.declaration.status {
                DeclarationStatus::Called => " (figures to follow)".to_string(),
                DeclarationStatus::Recount => " (recount)".to_string(),
                _ => e
                    .figures
                    .majority
                    .map(|m| format!(", majority {}", thousands(m)))
                    .unwrap_or_default(),
            };
            format!(
                "`{when}` **{}**: {}{state}",
                escape_markdown(&e.figures.constituency.name),
                escape_markdown(&headline(&e.figures, &style))
            )
        })
        .collect();
    let tally = board.tally(&Scope::All);
    Reply::embed(
        Embed {
            title: format!(
                "Latest declarations ({} of {} declared)",
                tally.declared, tally.total_seats
            ),
            description: lines.join("\n"),
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some(format!("Source: {}", style.source)),
            timestamp: None,
            image: None,
        }
        .fit(),
    )
}

/// `/seats`: the state of the parties.
pub fn seats(board: &Board, p: &Presentation) -> Reply {
    let style = p.style(board);
    // Elections side by side: each its own tally and majority line, named (a message holds
    // at most 10 embeds).
    let scopes: Vec<Scope> = board.election_scopes().into_iter().take(10).collect();
    let standings: Vec<Standing> = scopes.iter().map(|s| board.standing(s)).collect();
    let mut reply = Reply::embed(standing_embed(
        &standings[0],
        &board.scope_name(&scopes[0]),
        &style,
    ));
    for (scope, standing) in scopes.iter().zip(&standings).skip(1) {
        reply
            .embeds
            .push(standing_embed(standing, &board.scope_name(scope), &style));
    }
    // The seats chart goes with seats (a council election has its table).
    if matches!(standings[0], Standing::Seats(_)) {
        reply.picture = scopes.into_iter().next().map(Picture::Seats);
    }
    reply
}

/// `/swing`: the national swing and the biggest swings so far.
pub fn swing(board: &Board, p: &Presentation) -> Reply {
    let style = p.style(board);
    let tally = board.tally(&Scope::All);
    let mut description = national_swing_sentence(&tally, &style).unwrap_or_else(|| {
        "No national swing yet: no declared seat can be compared with a baseline.".into()
    });
    let mut swings: Vec<_> = board
        .entries()
        .filter(|e| e.declaration.status == DeclarationStatus::Declared)
        .filter_map(|e| e.figures.swing.quote().map(|q| (e, q)))
        .collect();
    swings.sort_by(|a, b| {
        b.1.points
            .partial_cmp(&a.1.points)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let lines: Vec<String> = swings
        .iter()
        .take(10)
        .map(|(e, q)| {
            format!(
                "**{}**: {:.1} points {} → {}{}",
                escape_markdown(&e.figures.constituency.name),
                q.points,
                escape_markdown(style.short(&q.from)),
                escape_markdown(style.short(&q.to)),
                if matches!(e.figures.outcome, Outcome::Gain { .. }) {
                    " (gain)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if !lines.is_empty() {
        description.push_str("\n\n**Biggest swings so far**\n");
        description.push_str(&lines.join("\n"));
    }
    let mut reply = Reply::embed(
        Embed {
            title: format!(
                "Swing: {} of {} declared",
                tally.declared, tally.total_seats
            ),
            description,
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some(format!("Source: {}", style.source)),
            timestamp: None,
            image: None,
        }
        .fit(),
    );
    reply.picture = Some(Picture::Swing);
    reply
}

/// Finds a party by id, alias, or the start of its name.
pub fn find_party(board: &Board, query: &str) -> Option<PartyId> {
    if let Some(id) = board.parties.resolve(query) {
        return Some(id);
    }
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return None;
    }
    let mut hits: Vec<PartyId> = board
        .parties
        .iter()
        .filter(|p| p.name.to_lowercase().starts_with(&q) || p.short.to_lowercase().starts_with(&q))
        .map(|p| p.id.clone())
        .collect();
    if hits.len() == 1 { hits.pop() } else { None }
}

/// `/party party:`: seats, gains and losses of one party.
pub fn party(board: &Board, p: &Presentation, query: &str) -> Reply {
    let style = p.style(board);
    let Some(id) = find_party(board, query) else {
        return Reply::private(format!("No party matches “{}”.", escape_markdown(query)));
    };
    let tally = board.tally(&Scope::All);
    let row = tally.party(&id);
    let name = style.name(&id).to_string();
    let mut gains = Vec::new();
    let mut losses = Vec::new();
    for e in board.entries() {
        if let Outcome::Gain { from } = &e.figures.outcome {
            let winner = e
                .figures
                .winning_party()
                .map(|w| board.parties.current(w).clone());
            if winner.as_ref() == Some(board.parties.current(&id)) {
                gains.push(format!(
                    "{} (from {})",
                    escape_markdown(&e.figures.constituency.name),
                    escape_markdown(style.short(from))
                ));
            }
            if board.parties.current(from) == board.parties.current(&id) {
                let to = e
                    .figures
                    .winning_party()
                    .map(|w| style.short(w).to_string())
                    .unwrap_or_default();
                losses.push(format!(
                    "{} (to {})",
                    escape_markdown(&e.figures.constituency.name),
                    escape_markdown(&to)
                ));
            }
        }
    }
    let description = match row {
        Some(r) => format!(
            "**{}** {} ({} on {}) from {} declared of {}.\n{} votes, {} of the vote{}.",
            r.seats,
            if r.seats == 1 { "seat" } else { "seats" },
            signed_int(r.seat_change),
            style.baseline_label,
            tally.declared,
            tally.total_seats,
            thousands(r.votes),
            pct1(r.share),
            r.share_change
                .map(|c| format!(" ({} points)", signed1(c)))
                .unwrap_or_default()
        ),
        None => format!(
            "No seats or votes yet, from {} declared of {}.",
            tally.declared, tally.total_seats
        ),
    };
    let mut fields = Vec::new();
    for (title, list) in [("Gains", gains), ("Losses", losses)] {
        if !list.is_empty() {
            fields.push(Field {
                name: format!("{title} ({})", list.len()),
                value: crate::format::embed::truncate_block(
                    &list.join("\n"),
                    crate::format::embed::limits::FIELD_VALUE,
                ),
                inline: false,
            });
        }
    }
    Reply::embed(
        Embed {
            title: escape_markdown(&name),
            description,
            colour: board.parties.colour(&id),
            fields,
            footer: Some(format!("Source: {}", style.source)),
            timestamp: None,
            image: None,
        }
        .fit(),
    )
}

/// Resolves a region or nation name (case-insensitive).
pub fn find_scope(board: &Board, query: &str) -> Option<Scope> {
    let q = query.trim();
    if let Some(n) = Nation::parse(q) {
        return Some(Scope::Nation(n));
    }
    board
        .regions()
        .into_iter()
        .find(|r| r.eq_ignore_ascii_case(q))
        .map(Scope::Region)
}

/// `/region region:`: the tally within a region or nation.
pub fn region(board: &Board, p: &Presentation, query: &str) -> Reply {
    let style = p.style(board);
    let Some(scope) = find_scope(board, query) else {
        let names = board.regions().join(", ");
        return Reply::private(format!(
            "No region or nation is called “{}”. Try one of: {names}",
            escape_markdown(query)
        ));
    };
    let name = board.scope_name(&scope);
    let tally = board.tally(&scope);
    let mut reply = Reply::embed(seats_embed(&tally, &name, &style));
    reply.picture = Some(Picture::Seats(scope));
    reply
}

/// What herald knows about itself, for `/about`.
#[derive(Clone, Debug)]
pub struct About {
    pub version: &'static str,
    pub source: String,
    pub last_poll: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
}

/// `/about`.
pub fn about(board: &Board, p: &Presentation, a: &About) -> Reply {
    let style = p.style(board);
    let tally = board.tally(&Scope::All);
    let last = a
        .last_poll
        .map(|t| style.time(t))
        .unwrap_or_else(|| "not yet".into());
    let mut description = format!(
        "herald {} follows **{}**.\nSource: {}\nLast successful poll: {last}\nDeclared so far: {} of {}.",
        a.version,
        escape_markdown(&board.election.name),
        escape_markdown(&a.source),
        tally.declared,
        tally.total_seats
    );
    if let Some(e) = &a.last_error {
        description.push_str(&format!(
            "\nLast feed problem: {}",
            escape_markdown(&truncate(e, 300))
        ));
    }
    Reply::embed(
        Embed {
            title: "About herald".into(),
            description,
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some("Contains Parliamentary information licensed under the Open Parliament Licence v3.0".into()),
            timestamp: None,
            image: None,
        }
        .fit(),
    )
}

/// An autocomplete choice: what the user sees, and the value sent back.
pub type Choice = (String, String);

pub(super) fn choice(name: &str, value: &str) -> Choice {
    (truncate(name, 100), truncate(value, 100))
}

/// Constituency names for autocomplete (at most 25, from the finder).
pub fn constituency_choices(board: &Board, partial: &str) -> Vec<Choice> {
    let mut out: Vec<Choice> = board
        .finder()
        .suggest(partial, 25)
        .into_iter()
        .filter(|m| m.kind != MatchKind::Fuzzy)
        .map(|m| choice(&m.name, &m.name))
        .collect();
    // Candidates by name ("Boris Johnson — Uxbridge and South Ruislip"), before near misses
    // of seats' names; the value is the seat.
    if partial.trim().chars().count() >= 3 {
        for m in board.people().suggest(partial, 25) {
            if m.kind == MatchKind::Fuzzy || out.len() >= 25 {
                continue;
            }
            if let Some(c) = board.constituency(&m.id) {
                out.push(choice(&format!("{} — {}", m.name, c.name), &c.name));
            }
        }
    }
    for m in board.finder().suggest(partial, 25) {
        if out.len() >= 25 {
            break;
        }
        if m.kind == MatchKind::Fuzzy {
            out.push(choice(&m.name, &m.name));
        }
    }
    out
}

/// Party names for autocomplete: parties with seats or votes first.
pub fn party_choices(board: &Board, partial: &str) -> Vec<Choice> {
    let q = partial.trim().to_lowercase();
    let tally = board.tally(&Scope::All);
    let mut parties: Vec<_> = board
        .parties
        .iter()
        .filter(|p| {
            q.is_empty()
                || p.name.to_lowercase().contains(&q)
                || p.short.to_lowercase().starts_with(&q)
                || p.id.as_str().starts_with(&q)
        })
        .map(|p| (tally.party(&p.id).map_or(0, |t| t.votes), p))
        .collect();
    parties.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    parties
        .into_iter()
        .take(25)
        .map(|(_, p)| choice(&format!("{} ({})", p.name, p.short), p.id.as_str()))
        .collect()
}

/// Regions and nations for autocomplete.
pub fn region_choices(board: &Board, partial: &str) -> Vec<Choice> {
    let q = partial.trim().to_lowercase();
    board
        .regions()
        .into_iter()
        .filter(|r| r.to_lowercase().contains(&q))
        .take(25)
        .map(|r| choice(&r, &r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn board() -> Board {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let mut b = Board::new(results.election.clone(), parties, baseline.into_baseline());
        b.apply(results.declarations[0].clone());
        b
    }

    fn p() -> Presentation {
        Presentation {
            tz: chrono_tz::Europe::London,
            source: "test".into(),
            baseline_label: "2019".into(),
        }
    }

    #[test]
    fn result_answers_typos_and_refuses_privately() {
        let b = board();
        let r = result(&b, &p(), "hartlepol");
        assert_eq!(r.embeds[0].title, "Hartlepool: Con GAIN from Lab");
        assert!(!r.ephemeral);
        assert_eq!(
            r.picture,
            Some(Picture::Result(ConstituencyId::new("E14000733")))
        );
        let r = result(&b, &p(), "Atlantis");
        assert!(r.ephemeral);
        assert!(r.content.unwrap().contains("No constituency matches"));
    }

    #[test]
    fn an_undeclared_seat_shows_its_baseline() {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let b = Board::new(results.election, parties, baseline.into_baseline());
        let r = result(&b, &p(), "Hartlepool");
        assert_eq!(r.embeds[0].title, "Hartlepool: not yet declared");
        assert!(
            r.embeds[0]
                .description
                .contains("In 2019 it was won by Labour")
        );
        assert!(r.embeds[0].fields[0].value.contains("Mike Hill"));
    }

    #[test]
    fn a_seat_with_nominations_shows_its_candidates_awaiting_declaration() {
        let parties = demo::parties();
        let nominations = r#"<FirstPastThePostNominations revision="1">
  <Election name="Scottish Parliament Test" date="2026-05-06" type="S">
    <Constituency number="13" name="Bathgate" electorate="66599" sittingParty="SNP">
      <Candidate paId="1" firstName="Alan" surname="Moffatt"><Party paId="1" name="Conservative" abbreviation="C" /></Candidate>
      <Candidate paId="2" firstName="Molly" surname="Green"><Party paId="2" name="Labour" abbreviation="Lab" /></Candidate>
      <Candidate paId="3" firstName="Kevin" surname="Robinson"><Party paId="3" name="Scottish National Party" abbreviation="SNP" /></Candidate>
    </Constituency>
  </Election>
  <PreviousNotionalElection name="Scottish Parliament" date="2021-05-06" type="S">
    <Constituency number="13" name="Bathgate" turnout="100" percentageTurnout="50.00" winningParty="SNP" majority="20" percentageMajority="20.00">
      <Party paId="9" name="Scottish National Party" abbreviation="SNP" votes="50" />
      <Party paId="8" name="Labour" abbreviation="Lab" votes="30" />
      <Party paId="7" name="Conservative" abbreviation="C" votes="20" />
    </Constituency>
  </PreviousNotionalElection>
</FirstPastThePostNominations>"#;
        let parts = crate::sources::live::pa_parts("n.xml", nominations, &parties).unwrap();
        assert!(parts.declarations.is_empty(), "nominations declare nothing");
        let mut b = Board::new(
            crate::app::placeholder_election(&Default::default()),
            parties,
            Default::default(),
        );
        b.set_nominations(parts.nominations);
        let reply = result(&b, &p(), "bathgat");
        let e = reply.embeds.first().expect("an embed");
        assert_eq!(e.title, "Bathgate: not yet declared");
        assert!(
            e.description
                .starts_with("Bathgate: awaiting declaration. 3 candidates standing."),
            "{}",
            e.description
        );
        assert!(
            e.description
                .contains("In 2021 (notional) it was won by Scottish National Party."),
            "{}",
            e.description
        );
        assert_eq!(e.fields[0].name, "Standing");
        assert_eq!(
            e.fields[0].value,
            "Alan Moffatt (Con)\nMolly Green (Lab)\nKevin Robinson (SNP)"
        );
    }

    #[test]
    fn autocomplete_is_capped_at_25() {
        let b = board();
        assert_eq!(constituency_choices(&b, "hart")[0].0, "Hartlepool");
        assert!(party_choices(&b, "").len() <= 25);
        assert_eq!(
            party_choices(&b, "")[0].1,
            "con",
            "the party with most votes first"
        );
        assert!(crate::discord::subscribing::filter_choices(&b, "").len() <= 25);
    }

    #[test]
    fn party_region_latest_and_swing_read_the_board() {
        let b = board();
        let r = party(&b, &p(), "con");
        assert!(
            r.embeds[0]
                .description
                .starts_with("**1** seat (+1 on 2019)")
        );
        assert!(
            r.embeds[0].fields[0]
                .value
                .contains("Hartlepool (from Lab)")
        );
        let r = party(&b, &p(), "lab");
        assert!(r.embeds[0].fields[0].name.starts_with("Losses"));
        let r = region(&b, &p(), "north east");
        assert!(r.embeds[0].title.starts_with("North East: 1 of 1 declared"));
        let r = latest(&b, &p(), 5);
        assert!(
            r.embeds[0]
                .description
                .contains("**Hartlepool**: Con GAIN from Lab, majority 6,940")
        );
        let r = swing(&b, &p());
        assert!(
            r.embeds[0]
                .description
                .contains("16.0 points Lab → Con (gain)")
        );
    }
}
