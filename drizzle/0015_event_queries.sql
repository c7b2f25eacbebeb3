-- Event queries (contract §14, docs/events.md): the two functions the query statements call, and the indexes their
-- plans use.
--
-- jsonb_compact(j): the compact JSON text of a jsonb value (no spaces), the text breakdown values are ordered by and
-- shown as when they are objects or arrays. Keys come in jsonb's own order (by length, then bytes): jsonb keeps no
-- other. plpgsql, because a SQL function cannot call itself.
CREATE FUNCTION "jsonb_compact"(j jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	CASE jsonb_typeof(j)
	WHEN 'object' THEN
		RETURN '{' || coalesce((SELECT string_agg(to_jsonb(x.k)::text || ':' || jsonb_compact(x.v), ',' ORDER BY x.n)
			FROM jsonb_each(j) WITH ORDINALITY AS x(k, v, n)), '') || '}';
	WHEN 'array' THEN
		RETURN '[' || coalesce((SELECT string_agg(jsonb_compact(x.v), ',' ORDER BY x.n)
			FROM jsonb_array_elements(j) WITH ORDINALITY AS x(v, n)), '') || ']';
	ELSE
		RETURN j::text;
	END CASE;
END;
$$;
--> statement-breakpoint
-- funnel_group(masks, lvl, nsteps): events that share one timestamp may serve consecutive steps in any order, each
-- once. From step index lvl (0-based), the furthest step index reachable by giving distinct events of the group to
-- steps lvl, lvl+1, … (masks[i]: bit s set when event i matches step s). A depth-first search; events with the same
-- mask are interchangeable, so each distinct mask is tried once per level.
CREATE FUNCTION "funnel_group"(masks integer[], lvl integer, nsteps integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	best integer := lvl;
	n integer := coalesce(array_length(masks, 1), 0);
	r integer;
BEGIN
	IF lvl >= nsteps THEN RETURN lvl; END IF;
	FOR i IN 1..n LOOP
		IF (masks[i] >> lvl) & 1 = 1 AND (i = 1 OR NOT masks[i] = ANY (masks[1:i - 1])) THEN
			r := funnel_group(masks[1:i - 1] || masks[i + 1:n], lvl + 1, nsteps);
			IF r > best THEN best := r; END IF;
			EXIT WHEN best = nsteps;
		END IF;
	END LOOP;
	RETURN best;
END;
$$;
--> statement-breakpoint
-- funnel_reach(ts, masks, nsteps, win): how many steps of a funnel one distinct id reaches (0..nsteps), given its
-- candidate events in (timestamp, id) order; masks[i] bit s is set when event i matches step s (bit 0 only for events
-- inside the range, which alone may start a chain). A chain is e1..ek, each at the same time as or later than the one
-- before, no event used twice, ek no later than e1 + win.
--
-- One pass over the events: starts[s] is the latest e1 timestamp of any chain that has reached step s so far (null:
-- none). A later start is always at least as good (more of the window is left), so it is all that needs keeping.
-- A lone event extends the chains one step (steps taken from the last down, so one event never serves two steps);
-- events sharing a timestamp are matched together by funnel_group. O(events × steps).
CREATE FUNCTION "funnel_reach"(ts timestamptz[], masks integer[], nsteps integer, win interval) RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	n integer := coalesce(array_length(ts, 1), 0);
	starts timestamptz[] := array_fill(NULL::timestamptz, ARRAY[nsteps]);
	nxt timestamptz[];
	cur integer := 1;
	hi integer;
	t timestamptz;
	m integer;
	r integer;
	best integer := 0;
BEGIN
	WHILE cur <= n LOOP
		t := ts[cur];
		hi := cur;
		WHILE hi < n AND ts[hi + 1] = t LOOP hi := hi + 1; END LOOP;
		IF hi = cur THEN
			m := masks[cur];
			FOR s IN REVERSE nsteps - 1..1 LOOP
				IF (m >> s) & 1 = 1 AND starts[s] IS NOT NULL AND t <= starts[s] + win
				   AND (starts[s + 1] IS NULL OR starts[s + 1] < starts[s]) THEN
					starts[s + 1] := starts[s];
				END IF;
			END LOOP;
			IF m & 1 = 1 THEN starts[1] := t; END IF;
		ELSE
			nxt := starts;
			-- New chains starting in this group (their start t is the latest possible).
			r := funnel_group(masks[cur:hi], 0, nsteps);
			FOR s IN 1..r LOOP nxt[s] := t; END LOOP;
			-- Chains that reached step s (1-based) before this group, carried on by it within their window.
			FOR s IN 1..nsteps - 1 LOOP
				IF starts[s] IS NOT NULL AND t <= starts[s] + win THEN
					r := funnel_group(masks[cur:hi], s, nsteps);
					FOR l IN s + 1..r LOOP
						IF nxt[l] IS NULL OR nxt[l] < starts[s] THEN nxt[l] := starts[s]; END IF;
					END LOOP;
				END IF;
			END LOOP;
			starts := nxt;
		END IF;
		cur := hi + 1;
	END LOOP;
	FOR s IN 1..nsteps LOOP
		IF starts[s] IS NOT NULL THEN best := s; END IF;
	END LOOP;
	RETURN best;
END;
$$;
