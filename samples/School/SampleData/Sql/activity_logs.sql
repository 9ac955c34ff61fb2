-- Logs arrive in time order, from the first day of Fall 2024 to the data's "today", as an append-only table fills.
INSERT INTO activity_logs (id, user_id, action, occurred_at, details)
SELECT g,
       1 + floor(pg_temp.draw(g, 40) * @users)::int,
       (ARRAY['login', 'login', 'logout', 'view_class', 'view_class', 'view_class', 'view_class',
              'submit_work', 'submit_work', 'grade_work', 'update_profile'])[1 + floor(pg_temp.draw(g, 41) * 11)::int],
       TIMESTAMPTZ '2024-08-26 07:00:00+00' + (g * @seconds_apart) * interval '1 second',
       jsonb_build_object(
           'client', (ARRAY['web', 'web', 'web', 'ios', 'android'])[1 + floor(pg_temp.draw(g, 42) * 5)::int],
           'ip', format('10.%s.%s.%s', floor(pg_temp.draw(g, 43) * 256), floor(pg_temp.draw(g, 44) * 256), 1 + floor(pg_temp.draw(g, 45) * 254)))
FROM generate_series(1, @activity_logs) AS g
