-- How many deals, and for how much, each stage holds per responsible and
-- source, kept by a trigger on every write to deals. The board's open
-- columns and the goals' weighted pipeline sum these few rows instead of
-- every open deal. Amounts are roubles (deals.amount).
CREATE TABLE deal_totals (
    stage_id        BIGINT NOT NULL REFERENCES stages(id),
    responsible_id  BIGINT NOT NULL,
    source          TEXT   NOT NULL,
    deals           BIGINT NOT NULL,
    amount          BIGINT NOT NULL,
    PRIMARY KEY (stage_id, responsible_id, source)
);

INSERT INTO deal_totals (stage_id, responsible_id, source, deals, amount)
SELECT stage_id, responsible_id, source, COUNT(*), SUM(amount) FROM deals
GROUP BY stage_id, responsible_id, source;

CREATE FUNCTION deal_totals_add(p_stage BIGINT, p_owner BIGINT, p_source TEXT, p_deals BIGINT, p_amount BIGINT) RETURNS void AS $$
    INSERT INTO deal_totals (stage_id, responsible_id, source, deals, amount) VALUES (p_stage, p_owner, p_source, p_deals, p_amount)
    ON CONFLICT (stage_id, responsible_id, source)
    DO UPDATE SET deals = deal_totals.deals + excluded.deals, amount = deal_totals.amount + excluded.amount;
$$ LANGUAGE sql;

CREATE FUNCTION deal_totals_follow() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM deal_totals_add(NEW.stage_id, NEW.responsible_id, NEW.source, 1, NEW.amount);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM deal_totals_add(OLD.stage_id, OLD.responsible_id, OLD.source, -1, -OLD.amount);
    ELSIF (OLD.stage_id, OLD.responsible_id, OLD.source) = (NEW.stage_id, NEW.responsible_id, NEW.source) THEN
        PERFORM deal_totals_add(NEW.stage_id, NEW.responsible_id, NEW.source, 0, NEW.amount - OLD.amount);
    -- A move takes two rows; every writer takes them in key order, so two
    -- deals moved in opposite directions at once never wait for each other in a circle.
    ELSIF (OLD.stage_id, OLD.responsible_id, OLD.source) < (NEW.stage_id, NEW.responsible_id, NEW.source) THEN
        PERFORM deal_totals_add(OLD.stage_id, OLD.responsible_id, OLD.source, -1, -OLD.amount);
        PERFORM deal_totals_add(NEW.stage_id, NEW.responsible_id, NEW.source, 1, NEW.amount);
    ELSE
        PERFORM deal_totals_add(NEW.stage_id, NEW.responsible_id, NEW.source, 1, NEW.amount);
        PERFORM deal_totals_add(OLD.stage_id, OLD.responsible_id, OLD.source, -1, -OLD.amount);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER deal_totals_on_insert_or_delete AFTER INSERT OR DELETE ON deals
FOR EACH ROW EXECUTE FUNCTION deal_totals_follow();

CREATE TRIGGER deal_totals_on_update AFTER UPDATE OF stage_id, responsible_id, source, amount ON deals
FOR EACH ROW WHEN ((OLD.stage_id, OLD.responsible_id, OLD.source, OLD.amount)
    IS DISTINCT FROM (NEW.stage_id, NEW.responsible_id, NEW.source, NEW.amount))
EXECUTE FUNCTION deal_totals_follow();
