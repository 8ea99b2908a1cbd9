//! Subscriptions as people write them: a filter read from `/subscribe`'s options (where,
//! whose, and what), described back, offered in autocomplete, and listed by
//! `/subscriptions`. Plain functions of the results board, tested directly.

use super::replies::{
    Choice, Reply, choice, constituency_choices, find_party, find_scope, party_choices,
    region_choices,
};
use crate::core::board::{Board, Scope};
use crate::core::filter::{Area, Filter, Wants};
use crate::core::finder::{Lookup, MatchKind};
use crate::format::embed::escape_markdown;
use crate::store::{Mode, Subscription};

/// A subscription's filter from `/subscribe`'s options: `filter` (where, or a party),
/// `party` (whose) and `wants` (what; `None` leaves what the filter text chose). Refused,
/// with the closest matches, when a name is unknown or the parts contradict each other.
pub fn build_filter(
    board: &Board,
    text: Option<&str>,
    party: Option<&str>,
    wants: Option<Wants>,
) -> Result<Filter, String> {
    let mut f = parse_filter(board, text.unwrap_or("all"))?;
    if let Some(q) = party {
        let Some(p) = find_party(board, q) else {
            let near = closest_parties(board, q);
            return Err(if near.is_empty() {
                format!("No party is called “{}”.", escape_markdown(q))
            } else {
                format!(
                    "No party is called “{}”. The closest: {}.",
                    escape_markdown(q),
                    near.join("; ")
                )
            });
        };
        if f.party.as_ref().is_some_and(|had| *had != p) {
            return Err("The filter names one party and `party` another: choose one.".into());
        }
        f.party = Some(p);
    }
    if let Some(w) = wants {
        f.wants = w;
    }
    if f.wants == Wants::Milestones && (f.area != Area::All || f.party.is_some()) {
        return Err(
            "Milestones are the whole election's (a majority reached, the last seat declared): subscribe to them with no area or party."
                .into(),
        );
    }
    Ok(f)
}

/// The parties whose name or abbreviation is nearest to `q` (typos forgiven), at most five.
fn closest_parties(board: &Board, q: &str) -> Vec<String> {
    let q = q.trim().to_lowercase();
    let mut scored: Vec<(f64, String)> = board
        .parties
        .iter()
        .map(|p| {
            let score = strsim::jaro_winkler(&q, &p.name.to_lowercase())
                .max(strsim::jaro_winkler(&q, &p.short.to_lowercase()));
            (score, format!("{} ({})", p.name, p.short))
        })
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(5).map(|(_, name)| name).collect()
}

/// An election of the night (or its list seats) as people name it: its name or id,
/// "mayors", "councils", "lists", "scottish list", "senedd".
fn election_area(board: &Board, q: &str) -> Option<Area> {
    let q = q.trim();
    let lists = q.ends_with(" list") || q.ends_with(" lists") || q == "lists" || q == "list seats";
    let stem = q
        .trim_end_matches(" lists")
        .trim_end_matches(" list")
        .trim();
    let kind = |prefix: &str| {
        let found: Vec<&crate::core::model::Election> = board
            .elections()
            .iter()
            .filter(|e| e.id.starts_with(prefix))
            .collect();
        (found.len() == 1).then(|| found[0].id.clone())
    };
    let election = match stem {
        "lists" | "list seats" => None,
        "mayor" | "mayors" | "mayoral" => kind("pa-m-"),
        "council" | "councils" | "local" | "locals" => kind("pa-local-"),
        "scottish" | "scotland" | "holyrood" | "scottish parliament" => kind("pa-s-"),
        "welsh" | "wales" | "senedd" | "welsh parliament" => kind("pa-w-"),
        _ => board
            .elections()
            .iter()
            .find(|e| e.id.eq_ignore_ascii_case(stem) || e.name.eq_ignore_ascii_case(stem))
            .map(|e| e.id.clone()),
    };
    match (lists, election) {
        (true, e) if stem == "lists" || stem == "list seats" || e.is_some() => {
            Some(Area::Lists { election: e })
        }
        (false, Some(e)) => Some(Area::Election { election: e }),
        _ => None,
    }
}

/// Reads the where-and-whose of a subscription filter: `all`, a nation or region, a party,
/// or a list of constituencies (separated by semicolons, or by commas outside seats'
/// names). `gains` and `milestones` choose what, as the `kind` option does.
pub fn parse_filter(board: &Board, text: &str) -> Result<Filter, String> {
    let t = text.trim();
    let lower = t.to_lowercase();
    let wants = |wants| Filter {
        wants,
        ..Filter::default()
    };
    match lower.as_str() {
        "" | "all" => return Ok(Filter::all()),
        "milestones" | "milestones only" => return Ok(wants(Wants::Milestones)),
        "gains" | "gains only" => return Ok(wants(Wants::Gains)),
        _ => {}
    }
    let area = |area| Filter {
        area,
        ..Filter::default()
    };
    match find_scope(board, t) {
        Some(Scope::Nation(nation)) => return Ok(area(Area::Nation { nation })),
        Some(Scope::Region(region)) => return Ok(area(Area::Region { region })),
        _ => {}
    }
    if let Some(a) = election_area(board, &lower) {
        return Ok(area(a));
    }
    if let Some(party) = find_party(board, t) {
        return Ok(Filter {
            party: Some(party),
            ..Filter::default()
        });
    }
    let mut ids = Vec::new();
    let parts = seat_list(board, t);
    if parts.len() > MAX_SEATS {
        return Err(format!(
            "A filter lists at most {MAX_SEATS} seats; subscribe to a region or a party instead."
        ));
    }
    for part in parts {
        let part = part.as_str();
        match board.finder().find(part) {
            Lookup::Found(m) => ids.push(m.id),
            Lookup::Ambiguous(ms) => {
                return Err(format!(
                    "“{}” could be: {}",
                    escape_markdown(part),
                    ms.iter()
                        .take(5)
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Lookup::NotFound(ms) => {
                let closest = if ms.is_empty() {
                    String::new()
                } else {
                    format!(
                        " The closest constituencies: {}.",
                        ms.iter()
                            .take(5)
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                };
                return Err(format!(
                    "“{}” is not a region, nation, party or constituency.{closest} Use `all`, a region or nation, a party, or constituencies separated by semicolons (or commas).",
                    escape_markdown(part)
                ));
            }
        }
    }
    ids.dedup();
    if ids.is_empty() {
        return Err("The filter names no seat: use `all`, a region or nation, a party, or seats separated by semicolons.".into());
    }
    Ok(area(Area::Constituencies { ids }))
}

/// The most seats one filter lists.
const MAX_SEATS: usize = 50;

/// Splits a list of seats. Semicolons separate them where given; else commas, except the
/// commas inside a seat's own name ("Birmingham, Ladywood"): pieces that together make a
/// seat's exact name are kept together, the longest first.
fn seat_list(board: &Board, text: &str) -> Vec<String> {
    if text.contains(';') {
        return text
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
    }
    let pieces: Vec<&str> = text.split(',').map(str::trim).collect();
    if pieces.len() > 4 * MAX_SEATS {
        // Far too many to be seats: not looked up (the caller refuses the list).
        return pieces.into_iter().map(String::from).collect();
    }
    let exact =
        |s: &str| matches!(board.finder().find(s), Lookup::Found(m) if m.kind == MatchKind::Exact);
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let mut end = i + 1;
        // A seat's own name holds at most a few commas.
        for j in (i + 2..=pieces.len().min(i + 4)).rev() {
            if exact(&pieces[i..j].join(", ")) {
                end = j;
                break;
            }
        }
        let joined = pieces[i..end].join(", ");
        if !joined.is_empty() {
            out.push(joined);
        }
        i = end;
    }
    out
}

/// Describes a filter for people.
pub fn describe_filter(board: &Board, f: &Filter) -> String {
    f.describe(
        &board.parties,
        |id| {
            board
                .constituency(id)
                .map_or_else(|| id.to_string(), |c| c.name.clone())
        },
        |e| board.scope_name(&Scope::Election(e.to_string())),
    )
}

/// `/subscriptions`: each channel's subscriptions, numbered for `/unsubscribe`.
pub fn subscriptions(board: &Board, subs: &[Subscription]) -> Reply {
    if subs.is_empty() {
        return Reply::private(
            "No channel in this server is subscribed. Use /subscribe to add one.",
        );
    }
    let mut lines: Vec<String> = Vec::new();
    let mut channel = "";
    for s in subs {
        if s.channel_id != channel {
            channel = &s.channel_id;
            // A pause holds for the whole channel.
            let paused = subs
                .iter()
                .filter(|x| x.channel_id == s.channel_id)
                .find_map(|x| x.paused_reason.as_ref())
                .map(|r| {
                    format!(
                        " — **paused**: {}. Fix it, then /subscribe again.",
                        escape_markdown(r)
                    )
                })
                .unwrap_or_default();
            let publish = if s.publish {
                " (announcement channel: milestones published)"
            } else {
                ""
            };
            lines.push(format!("<#{}>{publish}{paused}", s.channel_id));
        }
        let mode = match s.mode {
            Mode::Every => "one message each",
            Mode::Digest => "digests",
        };
        // Shown as the role's name; the reply itself allows no mention.
        let ping = s
            .mention_role
            .as_ref()
            .map(|r| format!(", pings <@&{r}> on gains"))
            .unwrap_or_default();
        lines.push(format!(
            "  `{}` {} ({mode}{ping})",
            s.id,
            escape_markdown(&describe_filter(board, &s.filter))
        ));
    }
    Reply::private(lines.join("\n"))
}

/// Filters for autocomplete: all, gains, milestones, regions and nations, parties,
/// constituencies.
pub fn filter_choices(board: &Board, partial: &str) -> Vec<Choice> {
    let mut out = Vec::new();
    if "all".starts_with(&partial.trim().to_lowercase()) {
        out.push(choice("All declarations", "all"));
    }
    if "gains".starts_with(&partial.trim().to_lowercase()) {
        out.push(choice("Gains only (seats changing hands)", "gains"));
    }
    if "milestones".starts_with(&partial.trim().to_lowercase()) {
        out.push(choice(
            "Milestones only (majority reached, last seat declared…)",
            "milestones",
        ));
    }
    out.extend(region_choices(board, partial).into_iter().take(8));
    out.extend(party_choices(board, partial).into_iter().take(6));
    out.extend(constituency_choices(board, partial));
    out.truncate(25);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{ConstituencyId, Nation, PartyId};
    use crate::demo;

    fn board() -> Board {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let mut b = Board::new(results.election.clone(), parties, baseline.into_baseline());
        b.apply(results.declarations[0].clone());
        b
    }

    fn area(area: Area) -> Filter {
        Filter {
            area,
            ..Filter::default()
        }
    }

    #[test]
    fn seat_lists_keep_the_commas_of_seats_names() {
        let parties = demo::parties();
        let seat = |id: &str, name: &str| crate::core::model::ConstituencyResult {
            constituency: crate::core::model::Constituency {
                id: ConstituencyId::new(id),
                name: name.into(),
                region: "West Midlands".into(),
                nation: Nation::England,
                election: None,
            },
            electorate: None,
            valid_votes: None,
            rejected: None,
            candidates: vec![],
        };
        let baseline = crate::core::model::Baseline::new(
            None,
            [
                seat("E1", "Birmingham, Ladywood"),
                seat("E2", "Birmingham, Edgbaston"),
                seat("E3", "Hartlepool"),
            ],
        );
        let b = Board::new(
            crate::app::placeholder_election(&baseline),
            parties,
            baseline,
        );
        let ids = |f: Filter| match f.area {
            Area::Constituencies { ids } => ids
                .iter()
                .map(|i| i.as_str().to_string())
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ids(parse_filter(&b, "Birmingham, Ladywood, Hartlepool").unwrap()),
            ["E1", "E3"]
        );
        assert_eq!(
            ids(parse_filter(&b, "Hartlepool; Birmingham, Edgbaston").unwrap()),
            ["E3", "E2"]
        );
        let e = parse_filter(&b, "Hartlepool, Hartlepol Nrth Atlantis").unwrap_err();
        assert!(
            e.contains("is not a region, nation, party or constituency"),
            "{e}"
        );
    }

    #[test]
    fn filters_parse_each_kind() {
        let b = board();
        assert_eq!(parse_filter(&b, "all"), Ok(Filter::all()));
        assert_eq!(
            parse_filter(&b, "wales"),
            Ok(area(Area::Nation {
                nation: Nation::Wales
            }))
        );
        assert_eq!(
            parse_filter(&b, "north east"),
            Ok(area(Area::Region {
                region: "North East".into()
            }))
        );
        assert_eq!(
            parse_filter(&b, "Conservative").map(|f| f.party),
            Ok(Some(PartyId::new("con")))
        );
        assert_eq!(
            parse_filter(&b, "hartlepool"),
            Ok(area(Area::Constituencies {
                ids: vec![ConstituencyId::new("E14000733")]
            }))
        );
        assert_eq!(parse_filter(&b, "gains").map(|f| f.wants), Ok(Wants::Gains));
        assert!(parse_filter(&b, "Narnia").is_err());
        // An empty list, and one far too long, are refused.
        assert!(
            parse_filter(&b, ";")
                .unwrap_err()
                .starts_with("The filter names no seat")
        );
        let long = vec!["Hartlepool"; 60].join("; ");
        assert!(
            parse_filter(&b, &long)
                .unwrap_err()
                .contains("at most 50 seats")
        );
    }

    #[test]
    fn a_filter_combines_where_whose_and_what() {
        let b = board();
        let f = build_filter(&b, Some("north east"), Some("lab"), Some(Wants::Gains)).unwrap();
        assert_eq!(
            f,
            Filter {
                area: Area::Region {
                    region: "North East".into()
                },
                party: Some(PartyId::new("lab")),
                wants: Wants::Gains,
            }
        );
        assert_eq!(
            describe_filter(&b, &f),
            "gains in North East where Labour stands"
        );
        let e = build_filter(&b, None, Some("Labr"), None).unwrap_err();
        assert!(e.starts_with("No party is called “Labr”."), "{e}");
        let e = build_filter(&b, Some("Conservative"), Some("lab"), None).unwrap_err();
        assert!(e.contains("choose one"), "{e}");
        let e = build_filter(&b, Some("wales"), None, Some(Wants::Milestones)).unwrap_err();
        assert!(e.starts_with("Milestones are the whole election's"), "{e}");
        assert_eq!(
            build_filter(&b, None, None, Some(Wants::Milestones)).map(|f| f.takes_milestones()),
            Ok(true)
        );
    }

    #[test]
    fn subscriptions_are_listed_by_channel_with_their_numbers() {
        let b = board();
        let mut one = Subscription::every("1", "100");
        one.id = 1;
        let mut two = Subscription::every("1", "100");
        two.id = 2;
        two.filter = build_filter(&b, Some("wales"), None, Some(Wants::Gains)).unwrap();
        two.mention_role = Some("55".into());
        two.paused_reason = Some("Missing Access".into());
        let text = subscriptions(&b, &[one, two]).content.unwrap();
        assert_eq!(
            text,
            "<#100> — **paused**: Missing Access. Fix it, then /subscribe again.\n  `1` every declaration (one message each)\n  `2` gains in Wales (one message each, pings <@&55> on gains)"
        );
    }

    #[test]
    fn may_nights_filter_by_election_and_by_list() {
        let mut b = board();
        let e = |id: &str, name: &str| crate::core::model::Election {
            id: id.into(),
            name: name.into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 7).unwrap_or_default(),
            total_seats: 0,
        };
        b.set_elections(vec![
            e("pa-m-2026-05-07", "Mayoral elections"),
            e("pa-s-2026-05-07", "Scottish Parliament"),
            e("pa-local-2026-05-07", "Local elections 2026"),
        ]);
        let f = parse_filter(&b, "mayors").unwrap();
        assert_eq!(
            f.area,
            Area::Election {
                election: "pa-m-2026-05-07".into()
            }
        );
        assert_eq!(describe_filter(&b, &f), "declarations of Mayoral elections");
        assert_eq!(
            parse_filter(&b, "Scottish list").unwrap().area,
            Area::Lists {
                election: Some("pa-s-2026-05-07".into())
            }
        );
        assert_eq!(
            parse_filter(&b, "lists").unwrap().area,
            Area::Lists { election: None }
        );
        assert_eq!(
            parse_filter(&b, "Local elections 2026").unwrap().area,
            Area::Election {
                election: "pa-local-2026-05-07".into()
            }
        );
        let f = build_filter(&b, Some("councils"), None, Some(Wants::Gains)).unwrap();
        assert_eq!(describe_filter(&b, &f), "gains of Local elections 2026");
    }
}
