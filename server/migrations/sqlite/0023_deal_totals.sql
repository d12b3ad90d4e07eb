-- How many deals, and for how much, each stage holds per responsible and
-- source, kept by triggers on every write to deals. The board's open
-- columns and the goals' weighted pipeline sum these few rows instead of
-- every open deal. Amounts are roubles (deals.amount).
CREATE TABLE deal_totals (
    stage_id        INTEGER NOT NULL REFERENCES stages(id),
    responsible_id  INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    deals           INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    PRIMARY KEY (stage_id, responsible_id, source)
) WITHOUT ROWID;

INSERT INTO deal_totals (stage_id, responsible_id, source, deals, amount)
SELECT stage_id, responsible_id, source, COUNT(*), SUM(amount) FROM deals
GROUP BY stage_id, responsible_id, source;

CREATE TRIGGER deal_totals_insert AFTER INSERT ON deals
BEGIN
    INSERT INTO deal_totals (stage_id, responsible_id, source, deals, amount)
    VALUES (NEW.stage_id, NEW.responsible_id, NEW.source, 1, NEW.amount)
    ON CONFLICT (stage_id, responsible_id, source)
    DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER deal_totals_update AFTER UPDATE OF stage_id, responsible_id, source, amount ON deals
WHEN OLD.stage_id <> NEW.stage_id OR OLD.responsible_id <> NEW.responsible_id
    OR OLD.source <> NEW.source OR OLD.amount <> NEW.amount
BEGIN
    UPDATE deal_totals SET deals = deals - 1, amount = amount - OLD.amount
    WHERE stage_id = OLD.stage_id AND responsible_id = OLD.responsible_id AND source = OLD.source;
    INSERT INTO deal_totals (stage_id, responsible_id, source, deals, amount)
    VALUES (NEW.stage_id, NEW.responsible_id, NEW.source, 1, NEW.amount)
    ON CONFLICT (stage_id, responsible_id, source)
    DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount;
END;

CREATE TRIGGER deal_totals_delete AFTER DELETE ON deals
BEGIN
    UPDATE deal_totals SET deals = deals - 1, amount = amount - OLD.amount
    WHERE stage_id = OLD.stage_id AND responsible_id = OLD.responsible_id AND source = OLD.source;
END;
