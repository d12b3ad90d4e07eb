-- Deals priced in a foreign currency keep what was typed in currency_amount;
-- amount stays in roubles (at the rate when saved), so every sum still adds up.
ALTER TABLE deals ADD COLUMN currency_amount INTEGER CHECK (currency_amount >= 0);

-- What one unit of a foreign currency costs in roubles, in millionths.
CREATE TABLE currency_rates (
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    currency    TEXT    NOT NULL,
    rate        INTEGER NOT NULL CHECK (rate > 0),
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (org_id, currency)
);
