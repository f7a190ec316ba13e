-- 房地产权 × 权利人 × 接入报文：one row per row of QLT_FW_FDCQ_YZ (same _BATCH, _ROW), for the cross-table
-- and timeliness rules. Values are text; NULL means "cannot be judged here" (another rule reports it).
-- Every table carries _BATCH (the batch a row was read from; joins never cross batches) and dq_as_of holds
-- each batch's as-of time (AS_OF). dq_ts() parses YYYY-MM-DD[ HH:MM:SS] strictly.
WITH holders AS (
    SELECT _BATCH, YWH, count(*) AS n, max(CASE WHEN QLRLX = '2' THEN 1 ELSE 0 END) AS has_enterprise
    FROM ZTT_GY_QLR WHERE YWH IS NOT NULL GROUP BY _BATCH, YWH
), messages AS (
    SELECT _BATCH, YWH, count(*) AS n, min(CASE WHEN JRZT = '1' THEN dq_ts(JRSJ) END) AS first_ok
    FROM JR_BW WHERE YWH IS NOT NULL GROUP BY _BATCH, YWH
), base AS (
    SELECT f._BATCH, f._ROW, f.QXDM, f.YWH, f.DJLX, f.SLRY, f.SHRY, f.DBR, f.SLSJ, f.DJSJ, dq_ts(f.DJSJ) AS djsj_ts,
           h.n AS holders_n, h.has_enterprise, m.n AS messages_n, m.first_ok, a.AS_OF AS as_of
    FROM QLT_FW_FDCQ_YZ f
    LEFT JOIN holders h ON h._BATCH = f._BATCH AND h.YWH = f.YWH
    LEFT JOIN messages m ON m._BATCH = f._BATCH AND m.YWH = f.YWH
    LEFT JOIN dq_as_of a ON a._BATCH = f._BATCH
)
SELECT _BATCH, _ROW, QXDM, YWH, DJLX, SLSJ, DJSJ,
    CASE WHEN YWH IS NULL THEN NULL WHEN holders_n IS NULL THEN '0' ELSE '1' END AS HAS_QLR,
    CASE WHEN DJLX = '200' AND has_enterprise = 1 THEN '1' ELSE '0' END AS FAST_TRACK,
    CASE WHEN YWH IS NULL THEN NULL WHEN messages_n IS NULL THEN '0' ELSE '1' END AS HAS_MSG,
    strftime(first_ok, '%Y-%m-%d %H:%M:%S') AS FIRST_OK_JRSJ,
    CASE WHEN first_ok IS NULL AND djsj_ts > as_of - INTERVAL 24 HOUR THEN '1' ELSE '0' END AS PENDING_24H,
    CASE WHEN first_ok IS NULL AND djsj_ts > as_of - INTERVAL 48 HOUR THEN '1' ELSE '0' END AS PENDING_48H,
    -- a registration with no successful message (none at all, or only failed ones) that is not pending was
    -- not accessed in time (bdc-contract.md); one without YWH or a readable DJSJ is judged by other rules
    CASE WHEN djsj_ts IS NULL OR YWH IS NULL THEN NULL
         WHEN first_ok IS NOT NULL AND first_ok <= djsj_ts + INTERVAL 24 HOUR THEN '1' ELSE '0' END AS OK_24H,
    CASE WHEN djsj_ts IS NULL OR YWH IS NULL THEN NULL
         WHEN first_ok IS NOT NULL AND first_ok <= djsj_ts + INTERVAL 48 HOUR THEN '1' ELSE '0' END AS OK_48H,
    -- risk control (杜绝“一人办到底”): accepted, reviewed and recorded by one and the same person
    CASE WHEN SLRY IS NULL OR SHRY IS NULL OR DBR IS NULL THEN NULL
         WHEN SLRY = SHRY AND SHRY = DBR THEN '1' ELSE '0' END AS ONE_PERSON
FROM base
