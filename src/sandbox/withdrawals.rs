//! Withdrawals: the fee, the `withdraw` and `withdraw-status` work, and their ledger.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::WithdrawalEntry;
use super::format::{random_hex32, rfc3339_utc_seconds};
use super::jobs::Outcome;
use super::work::api_error;

/// How long after its creation a withdrawal's deposit address expires.
const WITHDRAWAL_VALIDITY: time::Duration = time::Duration::minutes(20);
/// Smallest fee of a withdrawal, in cents; above 10,000 cents the 1 % fee is larger.
const MIN_FEE_IN_CENTS: i64 = 100;
/// The bech32 alphabet, so fake Liquid addresses look like real ones.
const BECH32_ALPHABET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Returns the fee of a withdrawal that deposits `deposit` cents: 1 %, rounded up, and at
/// least [`MIN_FEE_IN_CENTS`]. It works in `i128` so the search below cannot overflow.
fn fee(deposit: i128) -> i128 {
    let percent = deposit / 100 + i128::from(deposit % 100 > 0);
    percent.max(MIN_FEE_IN_CENTS.into())
}

/// Returns the payout of depositing `deposit` cents; it is below 1 when the fee eats it all,
/// and saturates at `i64::MIN` for deposits near it.
fn payout_for_deposit(deposit: i64) -> i64 {
    let payout = i128::from(deposit) - fee(deposit.into());
    i64::try_from(payout).unwrap_or(i64::MIN)
}

/// Returns the smallest deposit whose payout is at least `payout`, or `None` if it does not
/// fit in an `i64`. `payout` must be at least 1.
fn deposit_for_payout(payout: i64) -> Option<i64> {
    // The payout never decreases as the deposit grows, so a binary search finds the smallest
    // deposit. The invariant is payout(low) < target <= payout(high).
    let target = i128::from(payout);
    let mut low = target;
    let mut high = 2 * target + 200;
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if middle - fee(middle) >= target {
            high = middle;
        } else {
            low = middle;
        }
    }
    i64::try_from(high).ok()
}

/// Derives a fake Liquid confidential address from a withdrawal id: `lq1qq` then 60 bech32
/// characters. The checksum is not computed, so a wallet would reject it.
fn liquid_address(id: &str) -> String {
    // SplitMix64, seeded from the id's bytes, so one id always gives the same address.
    let mut state = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut address = String::from("lq1qq");
    for _ in 0..60 {
        address.push(char::from(BECH32_ALPHABET[(next() % 32) as usize]));
    }
    address
}

/// Reads an optional amount field: `Ok(None)` when absent or `null`, an error outcome when it
/// is not an integer.
fn amount_field(fields: &Map<String, Value>, key: &str) -> Result<Option<i64>, Outcome> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| api_error(400, &format!("{key} must be an integer number of cents"))),
    }
}

/// Created withdrawals: their status objects by id, the ledger in creation order, and the
/// withdrawal each nonce created.
#[derive(Debug, Default)]
pub(crate) struct Withdrawals {
    statuses: HashMap<String, Map<String, Value>>,
    entries: Vec<WithdrawalEntry>,
    by_nonce: HashMap<String, usize>,
}

impl Withdrawals {
    /// Performs `POST /api/withdraw`: checks the fields, then creates one withdrawal.
    ///
    /// A nonce that already created a withdrawal gets that withdrawal again, so one nonce
    /// never creates two, even if its job ran twice. `now` is the sandbox's clock.
    pub fn create(
        &mut self,
        nonce: &str,
        fields: &Map<String, Value>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Outcome {
        if let Some(&index) = self.by_nonce.get(nonce) {
            return created(
                &self.entries[index],
                &self.statuses[&self.entries[index].id],
            );
        }
        let pix_key = match fields.get("pixKey") {
            Some(Value::String(key)) if !key.is_empty() => key.clone(),
            _ => return api_error(400, "missing pixKey: expected a non-empty string"),
        };
        let amounts = (
            amount_field(fields, "depositAmountInCents"),
            amount_field(fields, "payoutAmountInCents"),
        );
        let (deposit, payout) = match amounts {
            (Err(error), _) | (_, Err(error)) => return error,
            (Ok(Some(deposit)), Ok(None)) => (deposit, payout_for_deposit(deposit)),
            (Ok(None), Ok(Some(payout))) if payout < 1 => (0, payout),
            (Ok(None), Ok(Some(payout))) => match deposit_for_payout(payout) {
                Some(deposit) => (deposit, payout_for_deposit(deposit)),
                None => return api_error(400, "payoutAmountInCents is too large"),
            },
            _ => {
                return api_error(
                    400,
                    "exactly one of depositAmountInCents and payoutAmountInCents is required",
                );
            }
        };
        if payout < 1 {
            return api_error(
                400,
                "amount too small: the payout after the fee (1 %, at least 100 cents) must be at least 1 cent",
            );
        }

        let id = random_hex32();
        let address = liquid_address(&id);
        let expiration = now + WITHDRAWAL_VALIDITY;
        let status = json!({
            "id": id,
            "pixKey": pix_key,
            "status": "unsent",
            "expiration": rfc3339_utc_seconds(expiration),
            "depositAddress": address,
            "depositAmountInCents": deposit,
            "payoutAmountInCents": payout,
        });
        let Value::Object(status) = status else {
            unreachable!("json! of an object literal is an object")
        };
        let entry = WithdrawalEntry {
            id: id.clone(),
            nonce: nonce.to_string(),
            pix_key,
            deposit_amount_in_cents: deposit,
            payout_amount_in_cents: payout,
            request_body: body.to_vec(),
        };
        let outcome = created(&entry, &status);
        log::debug!("sandbox created withdrawal {id} paying out {payout} cents for nonce {nonce}");
        self.statuses.insert(id, status);
        self.by_nonce.insert(nonce.to_string(), self.entries.len());
        self.entries.push(entry);
        outcome
    }

    /// Performs `GET /api/withdraw-status`.
    pub fn status(&self, id: &str) -> Outcome {
        match self.statuses.get(id) {
            Some(status) => Outcome {
                status: 200,
                body: Value::Object(status.clone()),
                bare: false,
            },
            // As for deposit-status, an unknown id gets a bare `{}` and 404.
            None => Outcome {
                status: 404,
                body: json!({}),
                bare: true,
            },
        }
    }

    /// Returns every created withdrawal, in creation order.
    pub fn entries(&self) -> &[WithdrawalEntry] {
        &self.entries
    }

    /// Returns the withdrawal's status object for changing, or `None` for an unknown id.
    pub fn status_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        self.statuses.get_mut(id)
    }
}

/// Builds the `withdraw` response from a withdrawal's entry and status object.
fn created(entry: &WithdrawalEntry, status: &Map<String, Value>) -> Outcome {
    Outcome {
        status: 200,
        body: json!({
            "withdrawalId": entry.id,
            "depositAddress": status.get("depositAddress").cloned().unwrap_or(Value::Null),
            "depositAmountInCents": entry.deposit_amount_in_cents,
            "payoutAmountInCents": entry.payout_amount_in_cents,
        }),
        bare: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_is_one_percent_with_minimum() {
        assert_eq!(payout_for_deposit(100), 0);
        assert_eq!(payout_for_deposit(101), 1);
        assert_eq!(payout_for_deposit(10_000), 9_900);
        assert_eq!(payout_for_deposit(10_001), 9_900);
        assert_eq!(payout_for_deposit(10_100), 9_999);
        assert_eq!(payout_for_deposit(10_101), 9_999);
        assert_eq!(payout_for_deposit(-5), -105);
        assert_eq!(payout_for_deposit(i64::MIN), i64::MIN);
    }

    #[test]
    fn deposit_for_payout_is_smallest() {
        for payout in (1..30_000).chain([i64::MAX / 4, i64::MAX / 2 - 1_000]) {
            let deposit = deposit_for_payout(payout).expect("fits in i64");
            assert!(payout_for_deposit(deposit) >= payout, "payout {payout}");
            assert!(payout_for_deposit(deposit - 1) < payout, "payout {payout}");
        }
        assert_eq!(deposit_for_payout(9_901), Some(10_002));
        assert_eq!(deposit_for_payout(i64::MAX), None);
    }

    #[test]
    fn liquid_address_is_stable_per_id() {
        let id = "0123456789abcdef0123456789abcdef";
        let address = liquid_address(id);
        assert_eq!(address, liquid_address(id));
        assert_ne!(address, liquid_address("1123456789abcdef0123456789abcdef"));
        assert_eq!(address.len(), 65);
        assert!(address.starts_with("lq1qq"));
        assert!(
            address[5..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }
}
