-- 抵押权 × 接入报文：one row per row of QLF_QL_DYAQ (same _BATCH, _ROW), for the timeliness rules.
WITH messages AS (
    SELECT _BATCH, YWH, count(*) AS n, min(CASE WHEN JRZT = '1' THEN dq_ts(JRSJ) END) AS first_ok
    FROM JR_BW WHERE YWH IS NOT NULL GROUP BY _BATCH, YWH
), base AS (
    SELECT d._BATCH, d._ROW, d.QXDM, d.YWH, d.DJLX, d.SLRY, d.SHRY, d.DBR, d.DJSJ, dq_ts(d.DJSJ) AS djsj_ts, m.n AS messages_n,
           m.first_ok, a.AS_OF AS as_of
    FROM QLF_QL_DYAQ d
    LEFT JOIN messages m ON m._BATCH = d._BATCH AND m.YWH = d.YWH
    LEFT JOIN dq_as_of a ON a._BATCH = d._BATCH
)
SELECT _BATCH, _ROW, QXDM, YWH, DJLX, DJSJ,
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
